"""Events published by other services through ``POST /events``.

A repeated ``Idempotency-Key`` is answered by the route with the first response
(``endpoint(idempotent=True)``). With a key the event id is derived from the
tenant and the key, so a retry of a request whose response was lost finds the
recorded event instead of recording a second one. Recording the event is all
this does: the events table's stream fans it out, so a recorded event is
always delivered.
"""

from __future__ import annotations

import hashlib

from chalicelib.core import jsontext
from chalicelib.core.errors import IdempotencyKeyReused
from chalicelib.events import store as events
from chalicelib.events.emit import emit
from chalicelib.events.models import PlatformEvent
from chalicelib.outbound.models import PublishEventRequest


def event_id_for_key(tenant_id: str, key: str) -> str:
    return "evt-" + hashlib.sha256(f"{tenant_id}\n{key}".encode()).hexdigest()[:20]


def publish(
    tenant_id: str, request: PublishEventRequest, idempotency_key: str | None, caller: str
) -> tuple[PlatformEvent, bool]:
    """Record the event; the flag says whether this call created it.

    A transient AWS failure is the route's 503 (``chalicelib/core/errors.py``): the repeat with the same key
    finds the event if it was recorded after all.
    """
    event_id = event_id_for_key(tenant_id, idempotency_key) if idempotency_key else None
    recorded = events.get(tenant_id, event_id) if event_id else None
    event = recorded or emit(tenant_id, request.type, request.data, source=request.source or caller, event_id=event_id)
    if event.type != request.type or jsontext.dumps(event.data) != jsontext.dumps(request.data):
        raise IdempotencyKeyReused("This Idempotency-Key was used for a different event.")
    return event, recorded is None
