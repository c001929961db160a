"""The platform event record (``evt-`` id) that the events table's stream fans out."""

from __future__ import annotations

from typing import Any

from pydantic import model_validator

from chalicelib.core.models import WireModel
from chalicelib.core.timestamps import ExpiryEpoch, Timestamp, normalise
from chalicelib.events.catalog import PLATFORM_EVENT_TYPES, PLATFORM_SOURCES, PLATFORM_TIME_FIELDS


class PlatformEvent(WireModel):
    """``origin`` is ``eventbridge`` for events that came in from the bus: they are not put back on it."""

    event_id: str
    tenant_id: str
    type: str
    source: str
    timestamp: Timestamp
    data: dict[str, Any]
    trace_id: str | None = None
    expires_at: ExpiryEpoch | None = None
    origin: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _platform_times(cls, value: Any) -> Any:
        """The platform's own events written by older code render their data's times in the one form.

        Only the platform's own payloads: a caller's or the bus's data is theirs and kept exactly.
        """
        if not isinstance(value, dict) or not isinstance(value.get("data"), dict):
            return value
        if value.get("type") not in PLATFORM_EVENT_TYPES or value.get("source") not in PLATFORM_SOURCES:
            return value
        if value.get("origin") is not None:
            return value
        data = {key: normalise(item) if key in PLATFORM_TIME_FIELDS else item for key, item in value["data"].items()}
        return {**value, "data": data}
