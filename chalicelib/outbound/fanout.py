"""Fan-out: one dispatch message per matching active subscription of the event's tenant.

Called by the events table's stream handler (``chalicelib.outbound.stream``) for
each new event item, never from a request path: the event is committed first
(with the state it announces), and the stream retries fan-out until it
succeeds. Cost per event: one subscriptions Query (cached per tenant for a few
seconds, dropped at once by this process's own writes) and one
SendMessageBatch per ten targets. A retried stream record may enqueue an event
twice; both carry the same ``webhook-id`` (the event id), which is what
subscribers deduplicate on.
"""

from __future__ import annotations

import threading
import time

from chalicelib.core import jsontext
from chalicelib.core.dynamo import Item
from chalicelib.events.models import PlatformEvent
from chalicelib.outbound import ordering, queue, store
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


def body(event: PlatformEvent) -> str:
    """The delivered body, ``{id, type, timestamp, data}``, as exact JSON text (vendor numbers untouched)."""
    return jsontext.dumps({"id": event.event_id, "type": event.type, "timestamp": event.timestamp, "data": event.data})


def enqueue(event: PlatformEvent, chosen: list[Item], *, fresh: bool = False) -> int:
    """``fresh``: a redelivery, whose ordered messages need a new deduplication id."""
    text = body(event)
    return queue.send_batch(
        DispatchMessage(
            tenant_id=event.tenant_id,
            subscription_id=subscription["subscriptionId"],
            event_id=event.event_id,
            event_type=event.type,
            body=text,
            **ordering.fields(subscription, event.event_id, event.data, fresh=fresh),
        )
        for subscription in chosen
    )


def fan_out(event: PlatformEvent) -> int:
    """Enqueue the event for every matching subscription."""
    chosen = targets(event.tenant_id, event.type)
    return enqueue(event, chosen) if chosen else 0
