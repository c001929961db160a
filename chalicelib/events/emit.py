"""Emitting a platform event.

Callers name the event id when they have a natural one (a delivery id, a run
id plus outcome) so that a retried handler records the same event, not a
second one. Fan-out to subscriptions hangs off this one function: the event is
recorded first, then fanned out; if fan-out fails the error reaches the caller,
whose retry finds the recorded event and completes its fan-out
(``chalicelib.outbound.fanout``). A repeated emit returns the recorded event.
"""

from __future__ import annotations

import time
from typing import Any

from chalicelib.core.context import current_trace_id
from chalicelib.core.ids import iso_now, new_id
from chalicelib.events import store
from chalicelib.events.models import PlatformEvent
from chalicelib.outbound import fanout

RETENTION_SECONDS = 30 * 24 * 3600


def emit(
    tenant_id: str, event_type: str, data: dict[str, Any], *, source: str, event_id: str | None = None
) -> PlatformEvent:
    event = PlatformEvent(
        event_id=event_id or new_id("evt"),
        tenant_id=tenant_id,
        type=event_type,
        source=source,
        timestamp=iso_now(),
        data=data,
        trace_id=current_trace_id(),
        expires_at=int(time.time()) + RETENTION_SECONDS,
    )
    if store.insert(event):
        fanout.fan_out(event)
        return event
    return fanout.resume(tenant_id, event.event_id) or event
