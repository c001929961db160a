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

import hashlib
import time
from typing import Any

from chalicelib.core.context import current_trace_id
from chalicelib.core.dynamo import transact
from chalicelib.core.ids import new_id
from chalicelib.core.timestamps import now_text
from chalicelib.events import catalog, store
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


def commit(state_change: dict[str, Any], event: PlatformEvent | None) -> bool:
    """Write the state change and its event together; ``False`` when a condition failed and nothing was written.

    ``state_change`` is one ``TransactWriteItems`` entry (``Table.update_entry`` and friends). With no
    event (a change that announces nothing, such as a run's retry) it is still one atomic write.
    """
    entries = [state_change] + ([store.record_entry(event)] if event is not None else [])
    return not transact(entries)


def delivery_failed(
    tenant_id: str, delivery: dict[str, Any], reason: str, redrive_count: int, expires_at: int | None
) -> PlatformEvent:
    """``DeliveryFailed`` for an inbound delivery (its ``deliveryId``, ``connectionId``, ``providerId``).

    Its id is the same for every copy of one failure and differs after each redrive, so a failure handled
    twice announces once, and a delivery that fails again after a redrive announces again.
    """
    material = f"{tenant_id}/{delivery['deliveryId']}/{catalog.DELIVERY_FAILED}/{redrive_count}"
    data = {name: delivery[name] for name in ("deliveryId", "connectionId", "providerId")} | {"reason": reason}
    event = new_event(
        tenant_id,
        catalog.DELIVERY_FAILED,
        data,
        source="inbound",
        event_id="evt-" + hashlib.sha256(material.encode()).hexdigest()[:24],
    )
    return event.model_copy(update={"expires_at": expires_at}) if expires_at else event
