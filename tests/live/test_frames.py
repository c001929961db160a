"""Client frames: 002's three actions, and a precise error for anything else."""

from __future__ import annotations

import json

import pytest

from chalicelib.core.errors import ApiError, PayloadTooLarge, ValidationFailed
from chalicelib.live import frames


def test_the_three_actions_parse() -> None:
    subscribe = frames.parse(
        json.dumps({"action": "subscribe", "events": ["RunCompleted"], "filters": {"runId": "run-1"}})
    )
    assert isinstance(subscribe, frames.Subscribe)
    assert (subscribe.id, subscribe.events, subscribe.filters.run_id) == ("default", ["RunCompleted"], "run-1")
    assert isinstance(frames.parse('{"action": "unsubscribe"}'), frames.Unsubscribe)
    assert isinstance(frames.parse('{"action": "ping"}'), frames.Ping)


@pytest.mark.parametrize(
    ("body", "error", "field"),
    [
        ("", ValidationFailed, "body"),
        ("{", ValidationFailed, "body"),
        ("[1]", ValidationFailed, "body"),
        ('{"action": "dance"}', ValidationFailed, None),
        ('{"action": "subscribe", "filters": {"tenantId": "other"}}', ValidationFailed, "subscribe.filters.tenantId"),
        ('{"action": "subscribe", "events": "RunCompleted"}', ValidationFailed, "subscribe.events"),
        (json.dumps({"action": "subscribe", "events": ["T"] * 51}), ValidationFailed, "subscribe.events"),
        (json.dumps({"action": "ping", "pad": "x" * frames.MAX_FRAME_BYTES}), PayloadTooLarge, None),
    ],
)
def test_a_bad_frame_names_what_is_wrong(body: str, error: type[ApiError], field: str | None) -> None:
    with pytest.raises(error) as raised:
        frames.parse(body)
    if field is not None:
        assert field in [d.field for d in raised.value.details]


def test_an_error_frame_has_the_platform_error_shape() -> None:
    frame = json.loads(frames.error(ValidationFailed("bad", [])))
    assert frame["type"] == "error"
    assert set(frame["data"]) == {"error", "traceId"}
    assert frame["data"]["error"] == {"code": "VALIDATION_ERROR", "message": "bad", "details": []}
