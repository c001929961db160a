"""The one timestamp form: formatting, parsing, and older spellings normalised on read."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from chalicelib.core.errors import ValidationFailed
from chalicelib.core.models import WireModel
from chalicelib.core.timestamps import PATTERN, Timestamp, format_time, from_epoch, normalise, parse_time


class Stamped(WireModel):
    created_at: Timestamp
    expires_at: Timestamp | None = None


def test_every_moment_has_milliseconds_and_z() -> None:
    moment = datetime(2026, 6, 11, 11, 0, 0, 496_999, tzinfo=timezone(timedelta(hours=2)))
    assert format_time(moment) == "2026-06-11T09:00:00.496Z"
    assert format_time(datetime(2026, 6, 11, 9, 0)) == "2026-06-11T09:00:00.000Z"  # naive is UTC
    assert from_epoch(0) == "1970-01-01T00:00:00.000Z"
    assert re.fullmatch(PATTERN, format_time(datetime.now(UTC)))


@pytest.mark.parametrize(
    "older",
    ["2026-06-11T09:00:00Z", "2026-06-11T09:00:00.000Z", "2026-06-11T09:00:00+00:00", "2026-06-11T11:00:00+02:00"],
)
def test_the_spellings_older_code_stored_read_back_in_the_one_form(older: str) -> None:
    assert normalise(older) == "2026-06-11T09:00:00.000Z"
    assert Stamped.model_validate({"createdAt": older}).created_at == "2026-06-11T09:00:00.000Z"


def test_a_year_before_1000_keeps_four_digits_and_reads_back() -> None:
    """glibc's ``%Y`` writes year 225 as ``225``, which is no ISO 8601 time (schemathesis sent one to GET /events)."""
    assert normalise("0225-01-13T21:42:51.375Z") == "0225-01-13T21:42:51.375Z"
    assert parse_time(format_time(datetime(225, 1, 13, tzinfo=UTC))) == datetime(225, 1, 13, tzinfo=UTC)


def test_microseconds_and_offsets_are_cut_to_milliseconds_in_utc() -> None:
    assert normalise("2026-06-11T02:11:04.496123+00:00") == "2026-06-11T02:11:04.496Z"
    assert normalise(datetime(2026, 6, 11, 2, 11, 4, 496_123, tzinfo=UTC)) == "2026-06-11T02:11:04.496Z"


def test_what_is_not_a_time_is_left_alone() -> None:
    assert normalise("yesterday") == "yesterday"
    assert normalise(None) is None
    assert Stamped.model_validate({"createdAt": "2026-06-11T09:00:00Z"}).expires_at is None


@pytest.mark.parametrize("bad", ["yesterday", "2026-13-01T00:00:00Z", "0001-01-01T00:00:00+14:00"])
def test_an_unreadable_time_is_a_validation_error_naming_the_field(bad: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_time(bad, "since")
    assert caught.value.details[0].field == "since"


def test_the_schema_declares_date_time_with_the_pattern() -> None:
    schema = Stamped.model_json_schema(by_alias=True)
    created = schema["properties"]["createdAt"]
    assert created["format"] == "date-time" and created["pattern"] == PATTERN
    assert re.fullmatch(PATTERN, created["examples"][0])
