"""Millisecond ISO timestamps: attempt keys sort by time, so seconds are too coarse."""

from __future__ import annotations

from datetime import UTC, datetime

from chalicelib.core.errors import FieldError, ValidationFailed


def iso_ms(moment: datetime | None = None) -> str:
    moment = (moment or datetime.now(UTC)).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso(value: str, field: str = "timestamp") -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise ValidationFailed(f"{field} is not an ISO 8601 time.", [FieldError(field, "not ISO 8601")]) from exc


def from_epoch(seconds: float) -> str:
    return iso_ms(datetime.fromtimestamp(seconds, UTC))
