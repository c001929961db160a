"""Which delivery a dispatch message belongs to, and whether its attempt was already made.

A delivery is one event sent to one subscription. Fan-out derives its id
(``deliveryId``) from the two, so every copy of its messages carries the same
id: a stream record read again after a failure or a crash, or SQS handing one
message out twice. A delivery someone asked for (a redelivery, a recovery, a
dead letter redriven) gets a fresh id, so it is sent as asked.

What a delivery's latest status is read from (``store``, ``latest``):

- A first-try success of a fan-out delivery writes one item: its attempt, in
  the subscription's log, under a key every reader can compute from the event
  and the subscription (``first_try_key``: the event's time and the derived
  delivery id), written only if absent. Nothing later can follow a success, so
  that item is the delivery's latest status as long as it is the only one.
- Every other attempt (a failure, a retry, an ordered delivery, a redelivery)
  writes its log item and the event's latest-status item of (event,
  subscription), which holds the delivery id and how many attempts it has made.

The dispatcher reads both for its batch (one BatchGetItem, no write) and drops
a message whose attempt they already count. So a duplicate produces no second
POST once the first copy's attempt is recorded; only a copy handled between
another copy's send and its record (a crash there, or two copies at the same
moment) can send twice: at least once (docs/reliability.md). Fan-out itself
writes nothing to be idempotent: a copy it enqueues again costs one SQS message
and one read, not a POST.
"""

from __future__ import annotations

import hashlib

from chalicelib.core.dynamo import Item
from chalicelib.core.ids import new_id
from chalicelib.outbound.models import AttemptStatus, DispatchMessage


def delivery_id(event_id: str, subscription_id: str, *, fresh: bool) -> str:
    """The event's delivery to the subscription (the same for every fan-out of it), or a ``fresh`` one."""
    if fresh:
        return new_id("dlv")
    digest = hashlib.sha256(f"{event_id}\n{subscription_id}".encode()).hexdigest()
    return f"dlv_{digest[:40]}"


def first_try_key(event_time: str, event_id: str, subscription_id: str) -> str:
    """The log's sort key of a fan-out delivery's first-try success: computable by every reader of the event.

    It sorts by the event's time, which precedes the attempt by the pipeline's latency (the item's
    ``attemptedAt`` says when it was made).
    """
    return f"{event_time}#{delivery_id(event_id, subscription_id, fresh=False)}"


def first_try_key_of(message: DispatchMessage) -> str | None:
    """The key under which this message's delivery may have succeeded at its first try; ``None`` when it
    cannot have: an ordered or asked-for delivery, or a message queued before messages carried the event's time."""
    if message.event_time is None or message.message_group is not None or message.delivery_id is None:
        return None
    if message.delivery_id != delivery_id(message.event_id, message.subscription_id, fresh=False):
        return None
    return first_try_key(message.event_time, message.event_id, message.subscription_id)


def latest(status: Item | None, first: Item | None) -> Item | None:
    """The latest status of (event, subscription), from its status item and its first-try success, either absent.

    Within one delivery a success ends it (a copy's failure of the same first attempt may have been
    recorded beside it); between deliveries the later attempt wins (a redelivery's status item).
    """
    if first is None:
        return status
    success: Item = {
        "tenantId": first["tenantId"],
        "subscriptionId": first["subscriptionId"],
        "deliveryId": first["deliveryId"],
        "status": AttemptStatus.SUCCEEDED.value,
        "attempts": 1,
        "lastAttemptAt": first["attemptedAt"],
        **({"statusCode": first["statusCode"]} if "statusCode" in first else {}),
    }
    if status is None:
        return success
    if status.get("deliveryId") == first["deliveryId"]:
        later = max(str(status["lastAttemptAt"]), str(first["attemptedAt"]))
        return success | {"attempts": max(1, int(status["attempts"])), "lastAttemptAt": later}
    return status if str(status["lastAttemptAt"]) >= str(first["attemptedAt"]) else success


def already_made(message: DispatchMessage, status: Item | None) -> bool:
    """The latest status of (event, subscription) already counts this message's attempt, or ended its delivery.

    A delivery that succeeded or failed for good needs no later attempt: a second follow-up, enqueued
    when an attempt was sent again because its record failed, finds it finished.
    """
    if status is None or message.delivery_id is None or status.get("deliveryId") != message.delivery_id:
        return False
    return status.get("status") != AttemptStatus.RETRYING or int(status.get("attempts", 0)) >= message.attempt


def attempts_so_far(status: Item | None, delivery_id: str | None) -> int | None:
    """Attempts an ordered delivery has made; ``None`` once its final attempt is recorded.

    The latest status counts only when it is this delivery's: while it is retrying, its attempts; once it
    succeeded or failed for good, ``None`` (SQS handed the message out again because the Lambda died after
    that attempt was recorded, or a stream retry outlived the deduplication window): nothing more to send.
    """
    if status is None or status.get("deliveryId") != delivery_id:
        return 0
    if status.get("status") != AttemptStatus.RETRYING:
        return None
    return int(status["attempts"])
