"""The platform event record (``evt-`` id) that outbound fan-out delivers."""

from __future__ import annotations

from typing import Any

from chalicelib.core.models import WireModel


class PlatformEvent(WireModel):
    event_id: str
    tenant_id: str
    type: str
    source: str
    timestamp: str
    data: dict[str, Any]
    trace_id: str | None = None
    expires_at: int | None = None
