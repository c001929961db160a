"""Which delivery a dispatch message belongs to, and whether its attempt was already made.

A delivery is one event sent to one subscription. Fan-out derives its id
(``deliveryId``) from the two, so every copy of its messages carries the same
id: a stream record read again after a failure or a crash, or SQS handing one
message out twice. A delivery someone asked for (a redelivery, a recovery, a
dead letter redriven) gets a fresh id, so it is sent as asked.

The attempts table's latest-status item of (event, subscription) holds the
delivery id and how many attempts it has made; it is written after every send.
The dispatcher reads those items for its batch (one BatchGetItem, no write) and
drops a message whose attempt the item already counts. So a duplicate produces
no second POST once the first copy's attempt is recorded; only a copy handled
between another copy's send and its record (a crash there, or two copies at the
same moment) can send twice: at least once (docs/reliability.md). Fan-out itself
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
