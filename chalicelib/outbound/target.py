"""Where a subscription delivers, as its item stores it, and what an AWS destination is given.

A webhook's URL stays in ``endpointUrl``, as in every subscription stored
before destinations; any other destination is ``destination``
(``{"type": "sqs", "queueArn": ...}``) and the item has no URL. An item without
``destination`` is a webhook, so older items read as they always did and need
no migration.

Only a webhook is signed. An AWS destination is reached with the platform's
tenant-tagged role session, and the tenant's resource policy admits only that
session (``chalicelib.destinations``): who wrote a message is what IAM
established, so there is no signing secret to keep, rotate or leak.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from chalicelib.core.dynamo import Item
from chalicelib.core.timestamps import now_text
from chalicelib.destinations.base import Envelope
from chalicelib.destinations.models import Destination, WebhookDestination
from chalicelib.events import store as events
from chalicelib.outbound import deliveries
from chalicelib.outbound.models import DispatchMessage

DESTINATION = "destination"
_destination: TypeAdapter[Destination] = TypeAdapter(Destination)


def of(item: Item) -> Destination:
    """The subscription's destination (a webhook when the item names none)."""
    stored = item.get(DESTINATION)
    if stored is None:
        return WebhookDestination(url=item["endpointUrl"])
    return _destination.validate_python(stored, by_alias=True)


def is_webhook(item: Item) -> bool:
    return item.get(DESTINATION) is None


def fields(destination: Destination) -> dict[str, Any]:
    """The item's attributes for ``destination``: ``endpointUrl`` for a webhook, ``destination`` otherwise."""
    if isinstance(destination, WebhookDestination):
        return {"endpointUrl": destination.url}
    return {DESTINATION: destination.model_dump(mode="json", by_alias=True)}


def envelope(message: DispatchMessage, body: bytes) -> Envelope:
    """The body a webhook would be sent, with what travels beside it.

    The deduplication id is the delivery's, the same for every copy and retry of it, so a FIFO queue or topic
    keeps one of a write that was made but not answered (a timeout) and then retried within five minutes; a
    redelivery someone asked for has a fresh delivery id and is kept.
    """
    delivery = message.delivery_id or deliveries.delivery_id(message.event_id, message.subscription_id, fresh=False)
    return Envelope(
        tenant_id=message.tenant_id,
        subscription_id=message.subscription_id,
        event_id=message.event_id,
        event_type=message.event_type,
        timestamp=message.event_time or _event_time(message),
        body=body,
        ordering_value=message.ordering_value,
        deduplication_id=delivery,
    )


def _event_time(message: DispatchMessage) -> str:
    """The event's timestamp, for a message that does not carry it (recovered, or queued before it did);
    the time of sending if the event has expired meanwhile."""
    recorded = events.get(message.tenant_id, message.event_id)
    return recorded.timestamp if recorded is not None else now_text()
