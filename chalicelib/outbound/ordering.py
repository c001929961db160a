"""Which FIFO message group an ordered subscription's delivery joins.

The group is the subscription id, plus the value of the subscription's
``orderingKey`` (a dotted path such as ``data.repository.id``) in the event
when it declares one: events with the same value keep their order, events
with different values need not wait for each other. An event without the key
(or with a non-scalar value there) joins the subscription's own group.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from chalicelib.core.dynamo import Item
from chalicelib.outbound.models import DeliveryMode

MAX_GROUP_ID = 128
# SQS allows alphanumerics and punctuation in MessageGroupId; anything else is hashed.
GROUP_SAFE = re.compile(r"^[!-~]+$")


def is_ordered(subscription: Item) -> bool:
    return subscription.get("delivery") == DeliveryMode.ORDERED


def key_value(data: Any, path: str) -> str | None:
    """The scalar at ``path`` (``data.a.b``) in the event envelope, as text; ``None`` when absent or not scalar."""
    value: Any = {"data": data}
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    if value is None or isinstance(value, dict | list):
        return None
    return str(value)


def group(subscription: Item, data: Any) -> str:
    """The MessageGroupId: the subscription, plus the ordering key's value when there is one."""
    subscription_id = str(subscription["subscriptionId"])
    path = subscription.get("orderingKey")
    value = key_value(data, path) if path else None
    if value is None:
        return subscription_id
    candidate = f"{subscription_id}:{value}"
    if len(candidate) <= MAX_GROUP_ID and GROUP_SAFE.match(candidate):
        return candidate
    return f"{subscription_id}:{hashlib.sha256(value.encode()).hexdigest()[:64]}"


def fields(subscription: Item, data: Any) -> dict[str, str]:
    """``message_group`` for an ordered subscription's message, and ``ordering_value`` when its key has one.

    Its ``delivery_id`` (``chalicelib.outbound.deliveries``) is then also the FIFO deduplication id, so
    SQS drops a stream retry's copy within its five-minute window. The value is what an AWS destination
    groups by (a FIFO queue's or topic's message group, a Kinesis partition key).
    """
    if not is_ordered(subscription):
        return {}
    path = subscription.get("orderingKey")
    value = key_value(data, path) if path else None
    return {"message_group": group(subscription, data)} | ({"ordering_value": value} if value is not None else {})
