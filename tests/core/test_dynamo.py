"""Cursors are opaque, carry no tenant, and a bad one is a 400, never a 500."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from chalicelib.core.dynamo import Table, decode_cursor, deserialize, encode_cursor, serialize
from chalicelib.core.errors import ValidationFailed


def test_cursor_round_trip_drops_and_restores_the_tenant() -> None:
    cursor = encode_cursor(serialize({"tenantId": "tenant-a", "connectionId": "conn-1"}), "tenant-a")
    assert cursor is not None and "tenant-a" not in base64.urlsafe_b64decode(cursor + "==").decode()
    assert decode_cursor(cursor, "tenant-b") == serialize({"tenantId": "tenant-b", "connectionId": "conn-1"})


def test_no_cursor_means_first_page() -> None:
    assert encode_cursor(None, "t") is None
    assert decode_cursor(None, "t") is None
    assert decode_cursor("", "t") is None


@pytest.mark.parametrize(
    "cursor",
    [
        "***",
        "abc",
        base64.urlsafe_b64encode(b"[1, 2]").decode(),
        base64.urlsafe_b64encode(json.dumps({"k": {"nested": 1}}).encode()).decode(),
        base64.urlsafe_b64encode(json.dumps({"k": 1.5}).encode()).decode(),
    ],
)
def test_garbage_cursor_is_a_validation_error(cursor: str) -> None:
    with pytest.raises(ValidationFailed):
        decode_cursor(cursor, "t")


@pytest.mark.usefixtures("aws")
def test_cursor_of_another_table_is_refused() -> None:
    table = Table("providers", sort_key="providerId")
    foreign = encode_cursor(serialize({"tenantId": "t", "connectionId": "conn-1"}), "t")
    with pytest.raises(ValidationFailed):
        table.query("t", limit=5, cursor=foreign)


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("sort_value", ["", "x" * 1025, "é" * 600])
def test_impossible_keys_are_simply_absent(sort_value: str) -> None:
    assert Table("runs", sort_key="runId").get("t", sort_value) is None


def test_numbers_come_back_as_the_api_accepts_them() -> None:
    """A float sent as 1e40 must not come back as a 41-digit integer, which the API would refuse."""
    values = {"max": 10**38 - 1, "big": 1e40, "whole": 1500.0, "tenth": 0.1, "tiny": 1e-130}
    back = deserialize(serialize(values))
    assert back == values and isinstance(back["big"], float) and isinstance(back["max"], int)
    assert json.dumps(back["big"]) == "1e+40"


def test_batch_get_reads_every_chunk_and_asks_again_for_unprocessed_keys(local_api: object) -> None:
    """DynamoDB returns ``UnprocessedKeys`` when throttled; moto never does, so the first answer is cut short."""
    from chalicelib.core import aws

    table = Table("events", sort_key="eventId")
    tenant = "tenant-batch-get"
    for n in range(120):
        table.put({"tenantId": tenant, "eventId": f"evt-{n:03d}"})
    calls: list[int] = []

    def throttle_first(parsed: dict[str, Any], **_: Any) -> None:
        calls.append(len(parsed["Responses"][table.name]))
        if len(calls) == 1:
            held = parsed["Responses"][table.name][:5]
            del parsed["Responses"][table.name][:5]
            parsed["UnprocessedKeys"] = {
                table.name: {"Keys": [{k: item[k] for k in ("tenantId", "eventId")} for item in held]}
            }

    hooks = aws.dynamodb().meta.events
    hooks.register("after-call.dynamodb.BatchGetItem", throttle_first, unique_id="throttle-first")
    try:
        wanted = [f"evt-{n:03d}" for n in range(130)]  # ten of them do not exist
        found = table.batch_get(tenant, [*wanted, "evt-000"])  # a repeated key is asked for once
    finally:
        hooks.unregister("after-call.dynamodb.BatchGetItem", unique_id="throttle-first")
    assert sorted(found) == wanted[:120]
    assert len(calls) == 3  # two chunks of keys, and the five unprocessed ones again
