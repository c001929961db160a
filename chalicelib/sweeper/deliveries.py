"""Inbound deliveries still Received past ``DELIVERY_RECEIVED_DEADLINE_SECONDS``: sent to the queue again.

Such a delivery was answered 503 (stored, then the SQS send failed) and its
vendor never retried, or its message was lost. The deadline is pushed out first
(conditionally: still Received, still due), then the message is sent; the
consumer is idempotent (deterministic event id), so a send that races a late
consumer makes no second event. There is no give-up: a delivery whose message
keeps failing reaches the inbound dead-letter queue, whose consumer decides.
"""

from __future__ import annotations

from typing import Any

from chalicelib.core.logging import logger
from chalicelib.inbound import handoff, queue, store
from chalicelib.inbound.models import DeliveryStatus


def table() -> str:
    return store.table_name()


def handle(key: dict[str, Any], now: float) -> str | None:
    delivery = store.get(key["tenantId"], key["deliveryId"])
    if delivery is None or delivery.status != DeliveryStatus.RECEIVED:
        return None
    if not store.postpone_resend(delivery.tenant_id, delivery.delivery_id, now):
        return None
    queue.send(handoff.message(delivery))
    logger.warning(
        "delivery never handed on; re-sent to the inbound queue",
        extra={"delivery_id": delivery.delivery_id, "tenant_id": delivery.tenant_id},
    )
    return "resent"
