"""The platform event record (``evt-`` id) that the events table's stream fans out, and the bus it may go on."""

from __future__ import annotations

from typing import Any

from pydantic import model_validator

from chalicelib.core.models import WireModel
from chalicelib.core.timestamps import ExpiryEpoch, Timestamp, normalise
from chalicelib.events.catalog import PLATFORM_EVENT_TYPES, PLATFORM_SOURCES, PLATFORM_TIME_FIELDS


class PlatformEvent(WireModel):
    """``origin`` is ``eventbridge`` for events that came in from the bus: their data is the sender's, kept exactly."""

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


class EventBus(WireModel):
    """The platform's EventBridge bus, as ``GET /events/bus`` names it.

    An ``eventbridge`` destination with ``event_bus_arn`` puts the tenant's matching events on it with ``source``
    and ``detail-type`` the event type; the rule that brings other services' events in ignores that ``source``.
    """

    event_bus_arn: str
    event_bus_name: str
    region: str
    source: str
