"""Recording platform events: alone, or committed with the state change they announce.

Nothing is fanned out from here. An event item written to the events table is
picked up by the table's stream (``chalicelib.outbound.stream``), which fans it
out to subscriptions (the EventBridge bus too, for a subscription whose
destination it is). So a state change and
its event are one transaction (``commit``): if it fails nothing changed and the
caller's retry starts over; if it succeeds the event will be delivered.

Callers name the event id when they have a natural one (a delivery id, a run
id plus outcome) so that a retried handler records the same event, not a
second one.
"""

from __future__ import annotations

import time
from typing import Any

from chalicelib.core.context import current_trace_id
from chalicelib.core.dynamo import transact
from chalicelib.core.ids import new_id
from chalicelib.core.timestamps import now_text
from chalicelib.events import store
from chalicelib.events.models import PlatformEvent

RETENTION_SECONDS = 30 * 24 * 3600


def new_event(
    tenant_id: str,
    event_type: str,
    data: dict[str, Any],
    *,
    source: str,
    event_id: str | None = None,
    origin: str | None = None,
    expires_at: int | None = None,
) -> PlatformEvent:
    """``expires_at`` defaults to ``RETENTION_SECONDS`` from now (an inbound event takes its delivery's)."""
    return PlatformEvent(
        event_id=event_id or new_id("evt"),
        tenant_id=tenant_id,
        type=event_type,
        source=source,
        timestamp=now_text(),
        data=data,
        trace_id=current_trace_id(),
        expires_at=expires_at or int(time.time()) + RETENTION_SECONDS,
        origin=origin,
    )


def emit(
    tenant_id: str,
    event_type: str,
    data: dict[str, Any],
    *,
    source: str,
    event_id: str | None = None,
    origin: str | None = None,
) -> PlatformEvent:
    """Record an event that announces no state of its own; a repeated id returns the recorded event."""
    event = new_event(tenant_id, event_type, data, source=source, event_id=event_id, origin=origin)
    if store.insert(event):
        return event
    return store.get(tenant_id, event.event_id) or event


def commit(
    state_change: dict[str, Any],
    event: PlatformEvent | None,
    *,
    payload_from: str | None = None,
    unless_recorded: str | None = None,
) -> bool:
    """Write the state change and its event together; ``False`` when a condition failed and nothing was written.

    ``state_change`` is one ``TransactWriteItems`` entry (``Table.update_entry`` and friends). With no
    event (a change that announces nothing, such as a run's retry) it is still one atomic write.
    ``payload_from`` names the delivery that holds the event's ``data.payload`` (``store.record_entry``).
    ``unless_recorded`` names another event of the same tenant whose recording cancels the commit.
    """
    entries = [state_change] + ([store.record_entry(event, payload_from=payload_from)] if event is not None else [])
    if unless_recorded is not None and event is not None:
        entries.append(store.absent_entry(event.tenant_id, unless_recorded))
    return not transact(entries)
