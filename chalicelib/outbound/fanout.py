"""Fan-out: one dispatch message per matching active subscription of the event's tenant.

Cost per event: the event PutItem (in ``emit``), one subscriptions Query (cached
per tenant for a few seconds, dropped at once by this process's own writes),
one SendMessageBatch per ten targets, and one UpdateItem that stamps
``fannedOutAt`` on the event. The stamp is what makes ``emit`` safe to retry:
the event is recorded before fan-out, so if sending fails the caller's retry
(SQS redelivery, or a client repeating its ``Idempotency-Key``) finds the event
recorded but not stamped and fans it out then; a stamped event is never fanned
out twice by a retry.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from chalicelib.core.dynamo import Item
from chalicelib.events import store as events
from chalicelib.events.models import PlatformEvent
from chalicelib.outbound import queue, store
from chalicelib.outbound.clock import iso_ms
from chalicelib.outbound.config import get_outbound_settings
from chalicelib.outbound.models import DispatchMessage, matches

_cache: dict[str, tuple[float, list[Item]]] = {}
_lock = threading.Lock()


def forget_tenant(tenant_id: str) -> None:
    with _lock:
        _cache.pop(tenant_id, None)


def subscriptions(tenant_id: str) -> list[Item]:
    ttl = get_outbound_settings().subscription_cache_seconds
    now = time.monotonic()
    with _lock:
        hit = _cache.get(tenant_id)
    if hit and now - hit[0] < ttl:
        return hit[1]
    items = store.all_subscriptions(tenant_id)
    if ttl > 0:
        with _lock:
            _cache[tenant_id] = (now, items)
    return items


def targets(tenant_id: str, event_type: str) -> list[Item]:
    return [s for s in subscriptions(tenant_id) if s.get("active") and matches(s["eventTypes"], event_type)]


def payload(event: PlatformEvent) -> dict[str, Any]:
    """The delivered body: ``{id, type, timestamp, data}``."""
    return {"id": event.event_id, "type": event.type, "timestamp": event.timestamp, "data": event.data}


def enqueue(event: PlatformEvent, subscription_ids: list[str]) -> int:
    body = payload(event)
    return queue.send_batch(
        DispatchMessage(
            tenant_id=event.tenant_id,
            subscription_id=subscription_id,
            event_id=event.event_id,
            event_type=event.type,
            payload=body,
        )
        for subscription_id in subscription_ids
    )


def fan_out(event: PlatformEvent) -> int:
    """Enqueue the event for every matching subscription and stamp it as fanned out."""
    chosen = [item["subscriptionId"] for item in targets(event.tenant_id, event.type)]
    if not chosen:
        return 0
    count = enqueue(event, chosen)
    events.TABLE.update(event.tenant_id, event.event_id, {"fannedOutAt": iso_ms(), "fanoutCount": count})
    return count


def resume(tenant_id: str, event_id: str) -> PlatformEvent | None:
    """On a repeated ``emit``: fan out the recorded event unless that already happened."""
    item = events.TABLE.get(tenant_id, event_id)
    if item is None:
        return None
    recorded = PlatformEvent.model_validate(item)
    if "fannedOutAt" not in item:
        fan_out(recorded)
    return recorded
