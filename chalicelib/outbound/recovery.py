"""Inspect and recover: the attempt log, per-event delivery status, redelivery, recovery.

Recovery reads the subscription's own attempt log rather than the DLQ: the DLQ
is shared by every tenant, while the log is keyed by tenant and subscription,
so "every failed message since T" is one Query range. Requeued deliveries
start a fresh retry schedule; an ordered subscription's go through its FIFO
queue, oldest first, with fresh deduplication ids.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from chalicelib.core.dynamo import Item
from chalicelib.core.errors import Conflict, FieldError, NotFound, Unprocessable
from chalicelib.core.timestamps import format_time, parse_time
from chalicelib.events import store as events
from chalicelib.events.models import PlatformEvent
from chalicelib.outbound import deliveries, fanout, ordering, queue, service, store
from chalicelib.outbound.models import (
    Attempt,
    AttemptListQuery,
    AttemptStatus,
    DeliveryStatus,
    DispatchMessage,
    Queued,
)

MAX_RECOVERED_EVENTS = 1000


def list_attempts(tenant_id: str, subscription_id: str, query: AttemptListQuery) -> tuple[list[Attempt], str | None]:
    service.get_item(tenant_id, subscription_id)
    items, cursor = store.query_attempts(tenant_id, subscription_id, limit=query.limit, cursor=query.cursor)
    return [Attempt.model_validate(item) for item in items], cursor


def delivery_status(
    tenant_id: str, event: PlatformEvent, subscription_ids: Collection[str] | None = None
) -> list[DeliveryStatus]:
    """The latest outcome of the event at each subscription it was sent to (only ``subscription_ids``, if given).

    Two reads: the event's status items (one Query), and the first-try successes, which have none, under the
    log keys computed for each of the tenant's subscriptions (one BatchGetItem per 100; the tenant's
    subscriptions are one Query unless ``subscription_ids`` names them). A deleted subscription's first-try
    successes are no longer looked for.
    """
    statuses = {item["subscriptionId"]: item for item in store.event_statuses(tenant_id, event.event_id)}
    looked_for = (
        set(subscription_ids)
        if subscription_ids is not None
        else {item["subscriptionId"] for item in store.all_subscriptions(tenant_id)}
    )
    keys = {(sub, deliveries.first_try_key(event.timestamp, event.event_id, sub)) for sub in looked_for}
    first_tries = {item["subscriptionId"]: item for item in store.first_tries(tenant_id, keys)}
    wanted = statuses.keys() | first_tries.keys()
    if subscription_ids is not None:
        wanted &= looked_for
    found = (deliveries.latest(statuses.get(sub), first_tries.get(sub)) for sub in sorted(wanted))
    return [DeliveryStatus.model_validate(item) for item in found if item is not None]


def _require_active(item: dict[str, object]) -> None:
    if not item.get("active"):
        raise Conflict(f"Subscription '{item['subscriptionId']}' is {item.get('status')}; enable it first.")


def redeliver(tenant_id: str, event_id: str, subscription_id: str | None) -> Queued:
    event = events.get(tenant_id, event_id)
    if event is None:
        raise NotFound(f"Event '{event_id}' does not exist.")
    if subscription_id:
        item = service.get_item(tenant_id, subscription_id)
        _require_active(item)
        if not fanout.selects(item, event):
            raise Unprocessable(
                f"Subscription '{subscription_id}' does not take this {event.type} event (its types or filter).",
                [FieldError("subscriptionId", "event type or filter not matched")],
            )
        chosen = [item]
    else:
        fanout.forget_tenant(tenant_id)
        chosen = fanout.targets(event)
    queued = fanout.enqueue(event, chosen, fresh=True) if chosen else 0
    return Queued(event_ids=[event_id], subscription_ids=[s["subscriptionId"] for s in chosen], queued=queued)


def _ordering_data(item: Item, tenant_id: str, event_ids: list[str]) -> dict[str, Any]:
    """Each event's data when an ordering key needs it (read in batches); otherwise nothing is read."""
    if not (ordering.is_ordered(item) and item.get("orderingKey")):
        return {}
    return {event_id: event.data for event_id, event in events.get_many(tenant_id, event_ids).items()}


def recover(tenant_id: str, subscription_id: str, since: str) -> Queued:
    """Requeue every event whose delivery finally failed since ``since`` and has not succeeded after."""
    item = service.get_item(tenant_id, subscription_id)
    _require_active(item)
    start = format_time(parse_time(since, "since"))
    outcome: dict[str, tuple[AttemptStatus, str]] = {}
    cursor: str | None = None
    while True:
        page, cursor = store.query_attempts(
            tenant_id, subscription_id, limit=100, cursor=cursor, since=start, newest_first=False
        )
        for attempt in page:
            outcome[attempt["eventId"]] = (AttemptStatus(attempt["status"]), attempt["eventType"])
        if cursor is None:
            break
    failed = [(eid, etype) for eid, (status, etype) in outcome.items() if status is AttemptStatus.FAILED]
    failed = failed[:MAX_RECOVERED_EVENTS]
    data = _ordering_data(item, tenant_id, [eid for eid, _ in failed])
    queued = queue.send_batch(
        DispatchMessage(
            tenant_id=tenant_id,
            subscription_id=subscription_id,
            event_id=eid,
            event_type=etype,
            delivery_id=deliveries.delivery_id(eid, subscription_id, fresh=True),
            **ordering.fields(item, data.get(eid)),
        )
        for eid, etype in failed
    )
    return Queued(event_ids=[eid for eid, _ in failed], subscription_ids=[subscription_id], queued=queued)
