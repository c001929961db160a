"""Events published by other services through ``POST /events``.

A repeated ``Idempotency-Key`` is answered by the route with the first response
(``endpoint(idempotent=True)``). What remains here is finishing a publish that
failed half-way: a failed request leaves no idempotency record, so its retry
runs again. With a key the event id is derived from the tenant and the key, and
the retry finds the recorded event and completes its fan-out (200) instead of
recording a second event.
"""

from __future__ import annotations

import hashlib

from chalicelib.core.errors import IdempotencyKeyReused, ServiceUnavailable
from chalicelib.events import store as events
from chalicelib.events.emit import emit
from chalicelib.events.models import PlatformEvent
from chalicelib.outbound import fanout
from chalicelib.outbound.models import PublishEventRequest


def event_id_for_key(tenant_id: str, key: str) -> str:
    return "evt-" + hashlib.sha256(f"{tenant_id}\n{key}".encode()).hexdigest()[:20]


def publish(
    tenant_id: str, request: PublishEventRequest, idempotency_key: str | None, caller: str
) -> tuple[PlatformEvent, bool]:
    """Record and fan out; the flag says whether this call created the event."""
    event_id = event_id_for_key(tenant_id, idempotency_key) if idempotency_key else None
    if event_id:
        recorded = events.get(tenant_id, event_id)
        if recorded is not None:
            if recorded.type != request.type or recorded.data != request.data:
                raise IdempotencyKeyReused("This Idempotency-Key was used for a different event.")
            return _resumed(tenant_id, event_id) or recorded, False
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        event = emit(tenant_id, request.type, request.data, source=request.source or caller, event_id=event_id)
    except (BotoCoreError, ClientError, RuntimeError) as exc:
        raise _unavailable() from exc
    if event.type != request.type or event.data != request.data:
        raise IdempotencyKeyReused("This Idempotency-Key was used for a different event.")
    return event, True


def _unavailable() -> ServiceUnavailable:
    """The event may be recorded; a retry with the same key completes its fan-out."""
    return ServiceUnavailable(
        "The event could not be fully published; repeat the request with the same Idempotency-Key.",
        headers={"Retry-After": "1"},
    )


def _resumed(tenant_id: str, event_id: str) -> PlatformEvent | None:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return fanout.resume(tenant_id, event_id)
    except (BotoCoreError, ClientError, RuntimeError) as exc:
        raise _unavailable() from exc
