"""The platform event record (``evt-`` id) that the events table's stream fans out."""

from __future__ import annotations

from typing import Any

from chalicelib.core.models import WireModel


class PlatformEvent(WireModel):
    """``origin`` is ``eventbridge`` for events that came in from the bus: they are not put back on it."""

    event_id: str
    tenant_id: str
    type: str
    source: str
    timestamp: str
    data: dict[str, Any]
    trace_id: str | None = None
    expires_at: int | None = None
    origin: str | None = None
