"""``POST /webhooks/deliveries/{id}/redrive``: a ``Failed`` delivery normalized again and its event published.

A delivery is ``Failed`` for one of two reasons, and the redrive is one
conditional update of its item either way (``store.commit_redrive``), marked
``redrivenAt`` so the events stream publishes its event (``events.store.published``):

- its body could not be read when it came: the body kept in the item is read
  again with the code deployed now (a fix), and the item gains its event; if it
  still cannot be read, the redrive is a 409 naming why and nothing changes;
- its event's fan-out failed past the stream's retries (``chalicelib.outbound.stream_failures``):
  the event is published again; the dispatcher sends none of it twice.
"""

from __future__ import annotations

import time

from chalicelib.core.dynamo import Item
from chalicelib.core.errors import Conflict, NotFound, ValidationFailed
from chalicelib.core.logging import logger
from chalicelib.inbound import delivery_status, extract, lookup, service, store
from chalicelib.inbound.models import Delivery, DeliveryStatus
from chalicelib.inbound.signatures import SignedRequest

_KEYS = ("tenantId", "eventId")


def redrive(tenant_id: str, delivery_id: str) -> Delivery:
    item = store.get_item(tenant_id, delivery_id, consistent=True)
    if item is None:
        raise NotFound(f"Delivery '{delivery_id}' was not found.")
    current = store.from_item(item, with_payload=False)
    if current.status != DeliveryStatus.FAILED:
        raise Conflict(f"Delivery '{delivery_id}' is {current.status.value}; only a Failed delivery can be redriven.")
    changes, remove = _read_again(current, item)
    updated = store.commit_redrive(current, changes, remove)
    if updated is None:
        raise Conflict(f"Delivery '{delivery_id}' changed meanwhile; read it and redrive it again if it is Failed.")
    redriven = store.from_item(updated)
    logger.info(
        "inbound delivery redriven",
        extra={"trace_id": redriven.trace_id, "delivery_id": delivery_id, "redrive_count": redriven.redrive_count},
    )
    return redriven


def _read_again(current: Delivery, item: Item) -> tuple[Item, list[str]]:
    """The item's event, read from its kept body when it has none yet; nothing to change when it has one."""
    raw = store.raw_of(item)
    if raw is None:
        return {}, []
    connection = lookup.connection(current.connection_id)
    provider = lookup.provider(current.tenant_id, current.provider_id) if connection else None
    if provider is None:
        raise Conflict(f"Delivery '{current.delivery_id}' cannot be read again: its connection or provider is gone.")
    request = SignedRequest(current.headers, raw.body, time.time(), "")
    try:
        found = extract.vendor(provider.webhook_signature.scheme, request, raw.claims)
    except ValidationFailed as exc:
        raise Conflict(f"Delivery '{current.delivery_id}' still cannot be read: {exc.message}") from exc
    if isinstance(found, extract.Challenge):
        raise Conflict(f"Delivery '{current.delivery_id}' is a URL verification, not a delivery.")
    unfailed = current.model_copy(update={"failure_reason": None, "failed_at": None})
    delivery = service.normalized(unfailed, provider.key, found)
    if delivery.provider_id in delivery_status.READERS:
        delivery_status.record(delivery)
    stored = store.processed_item(delivery, service.event_of(delivery))
    changes = {name: value for name, value in stored.items() if name not in _KEYS}
    changes |= {"providerDeliveryId": found.provider_delivery_id, "eventName": found.event_name}
    return changes, [store.RAW, store.CLAIMS]
