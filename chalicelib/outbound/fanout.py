"""Fan-out: one dispatch message per matching active subscription of the event's tenant.

Called by the events table's stream handler (``chalicelib.outbound.stream``) for
each new event item, never from a request path: the event is committed first
(with the state it announces), and the stream retries fan-out until it
succeeds. Cost per event: one subscriptions Query (cached per tenant for a few
seconds, dropped at once by this process's own writes); the stream enqueues a
batch's messages together, ten to a SendMessageBatch across its events. A subscription's content ``filter`` and
``transform`` are applied here, in process (``filters``, ``transforms``): a
non-matching event is not enqueued for it, and its message carries the
transformed body, which is what the dispatcher signs and sends. Every message
carries the delivery id derived from event and subscription
(``chalicelib.outbound.deliveries``): a stream record read again after a
failure or a crash may enqueue a copy, and the dispatcher drops it once the
first copy's attempt is recorded. That costs no write here; a marker per event
and subscription would cost one write per message to save one read per copy.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from chalicelib.core import jsontext
from chalicelib.core.dynamo import Item
from chalicelib.core.logging import logger
from chalicelib.events.models import PlatformEvent
from chalicelib.outbound import deliveries, filters, ordering, queue, store, transforms
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


def selects(subscription: Item, event: PlatformEvent) -> bool:
    """The subscription takes this event: its types match and so does its content filter, if any."""
    return matches(subscription["eventTypes"], event.type) and filter_matches(subscription, event)


def filter_matches(subscription: Item, event: PlatformEvent) -> bool:
    """The subscription's content filter matches the event (no filter matches everything)."""
    pattern = subscription.get("filter")
    return pattern is None or filters.matches(pattern, envelope(event))


def targets(event: PlatformEvent) -> list[Item]:
    return [s for s in subscriptions(event.tenant_id) if s.get("active") and selects(s, event)]


def envelope(event: PlatformEvent) -> dict[str, Any]:
    """What filters match and transforms project: the delivered fields plus ``source``."""
    return {
        "id": event.event_id,
        "type": event.type,
        "source": event.source,
        "timestamp": event.timestamp,
        "data": event.data,
    }


def body(event: PlatformEvent, subscription: Item | None = None) -> str:
    """The delivered body as exact JSON text (vendor numbers untouched).

    ``{id, type, timestamp, data}``, or the subscription's transform of the
    envelope; ``transforms.TransformFailed`` when that cannot be produced.
    """
    expression = subscription.get("transform") if subscription else None
    if expression:
        return transforms.apply(expression, envelope(event))
    return jsontext.dumps({"id": event.event_id, "type": event.type, "timestamp": event.timestamp, "data": event.data})


def _prepared(event: PlatformEvent, subscription: Item) -> str | None:
    """The body to carry, or None to let the dispatcher rebuild it and record why it cannot."""
    try:
        return body(event, subscription)
    except transforms.TransformFailed as exc:
        logger.warning("transform failed at fan-out", extra={"eventId": event.event_id, "error": str(exc)})
        return None


def messages(event: PlatformEvent, chosen: list[Item], *, fresh: bool = False) -> list[DispatchMessage]:
    """The event's dispatch message for each chosen subscription; ``fresh``: a redelivery someone asked for,
    under a new delivery id (``deliveries``), so it is sent."""
    plain = body(event)
    return [
        DispatchMessage(
            tenant_id=event.tenant_id,
            subscription_id=subscription["subscriptionId"],
            event_id=event.event_id,
            event_type=event.type,
            body=_prepared(event, subscription) if subscription.get("transform") else plain,
            delivery_id=deliveries.delivery_id(event.event_id, subscription["subscriptionId"], fresh=fresh),
            event_time=event.timestamp,
            **ordering.fields(subscription, event.data),
        )
        for subscription in chosen
    ]


def enqueue(event: PlatformEvent, chosen: list[Item], *, fresh: bool = False) -> int:
    return queue.send_batch(messages(event, chosen, fresh=fresh))


def fan_out(event: PlatformEvent) -> list[DispatchMessage]:
    """The event's messages to every matching subscription (the stream enqueues a batch's together)."""
    chosen = targets(event)
    return messages(event, chosen) if chosen else []
