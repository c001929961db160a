"""The one timestamp form: RFC 3339 in UTC with milliseconds, ``2026-06-11T09:00:00.000Z``.

Every time the platform writes or returns (bodies, event envelopes and data,
outbound payloads, stored items) comes from ``format_time``; nothing else calls
``isoformat`` or ``strftime``. Milliseconds because delivery attempts and events
within one second must still sort by time as text; always ``Z`` so a client
never meets ``+00:00``. Items written by older code hold other spellings
(``…T02:09:43Z``, ``…+00:00`` with microseconds): the ``Timestamp`` type renders
them in the one form when they are read back (``docs/api.md``, "Timestamps").
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, SerializationInfo, WithJsonSchema

from chalicelib.core.errors import FieldError, ValidationFailed

PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"
EXAMPLE = "2026-06-11T09:00:00.000Z"


def utc_now() -> datetime:
    return datetime.now(UTC)


def format_time(moment: datetime) -> str:
    """``moment`` in the one form (a naive time is taken as UTC)."""
    moment = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    # The year by hand: glibc's %Y does not pad years before 1000, which parse_time would then refuse.
    return f"{moment.year:04d}" + moment.strftime("-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def now_text() -> str:
    return format_time(utc_now())


def from_epoch(seconds: float) -> str:
    return format_time(datetime.fromtimestamp(seconds, UTC))


def parse_time(value: str, field: str = "timestamp") -> datetime:
    """Any ISO 8601 / RFC 3339 spelling as an aware UTC time; a clear 400 when it is none."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError) as exc:  # OverflowError: 0001-01-01T00:00:00+14:00 is before year 1 in UTC
        raise ValidationFailed(f"{field} is not an ISO 8601 time.", [FieldError(field, "not ISO 8601")]) from exc


def normalise(value: Any) -> Any:
    """A stored time in the one form, whatever spelling wrote it; anything else unchanged."""
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, str):
        try:
            return format_time(parse_time(value))
        except ValidationFailed:
            return value
    return value


SCHEMA = {"type": "string", "format": "date-time", "pattern": PATTERN, "examples": [EXAMPLE]}
# The renderer's serialization context (``chalicelib/api/rendering.py``): what a response shows.
WIRE = {"wire": True}

Timestamp = Annotated[str, BeforeValidator(normalise), WithJsonSchema(SCHEMA)]


def _expiry(seconds: int, info: SerializationInfo) -> int | str:
    return from_epoch(seconds) if isinstance(info.context, dict) and info.context.get("wire") else seconds


# A DynamoDB TTL attribute (``expiresAt``): epoch seconds in the store, because TTL reads
# only numbers, and a time in the one form in a response, like every other time.
ExpiryEpoch = Annotated[int, PlainSerializer(_expiry, when_used="json"), WithJsonSchema(SCHEMA, mode="serialization")]
