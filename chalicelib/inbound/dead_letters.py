"""Inbound deliveries whose processing never succeeded: the dead-letter consumer, and redrive.

A message reaches the inbound-events DLQ after ``MaxReceiveCount`` receives that
all failed. Its delivery would otherwise stay ``Received`` for ever, looking
in flight. The DLQ consumer marks it ``Failed`` with a reason a person can act
on (the consumer's own error is not in the message, so the reason points at
the delivery's trace id in the logs), counts it and emits ``DeliveryFailed``.

The change is conditional (``Received`` -> ``Failed``, and only while the
delivery's event is not recorded): a delivery processed meanwhile stays
``Processed``, and one whose event a try of the consumer recorded before failing
to mark it is marked ``Processed`` instead (its event is on its way), whether
that try came before the dead letter or races it.
The event id is derived from the delivery id and its redrive count, so a
repeated DLQ message never emits twice, while a delivery that fails again after
a redrive announces its new failure.

Redrive is the way back: ``Failed`` -> ``Received`` (conditional, counted),
then the usual hand-off message to the inbound-events queue; if that send
fails the delivery goes back to ``Failed`` and the caller gets a 503 to retry.
"""

from __future__ import annotations

import hashlib
from typing import Any

from chalicelib.core import jsontext
from chalicelib.core.batch import SqsRecord, handle_in_turn
from chalicelib.core.context import set_trace_id
from chalicelib.core.errors import Conflict, NotFound, ServiceUnavailable
from chalicelib.core.logging import logger
from chalicelib.core.timestamps import now_text
from chalicelib.events import catalog
from chalicelib.events import store as events
from chalicelib.events.emit import commit, new_event
from chalicelib.inbound import handoff, queue, store
from chalicelib.inbound.metrics import count_failed_delivery
from chalicelib.inbound.models import Delivery, DeliveryStatus
from chalicelib.stats import record as stats


def handle_dead_letters(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    return handle_in_turn(event, _dead_record, raise_on_entire_batch_failure=False)


def _dead_record(record: SqsRecord) -> None:
    try:
        message = jsontext.read(record.body)
        tenant_id, delivery_id = str(message["tenantId"]), str(message["deliveryId"])
    except (ValueError, TypeError, KeyError):
        logger.error("discarding an inbound dead letter that names no delivery", extra={"messageId": record.message_id})
        return
    trace_id = str(message.get("traceId") or "")
    if trace_id:
        set_trace_id(trace_id)
    fail(tenant_id, delivery_id, record.receive_count, trace_id)


def failure_reason(receive_count: int, trace_id: str) -> str:
    where = f"see logs with traceId {trace_id}" if trace_id else "see the inbound-events consumer's logs"
    return f"processing failed on every try (SQS ApproximateReceiveCount {receive_count}); {where}"


def failed_event_id(delivery: Delivery) -> str:
    """The same for every copy of one failure, different after each redrive."""
    material = f"{delivery.tenant_id}/{delivery.delivery_id}/{catalog.DELIVERY_FAILED}/{delivery.redrive_count or 0}"
    return "evt-" + hashlib.sha256(material.encode()).hexdigest()[:24]


def fail(tenant_id: str, delivery_id: str, receive_count: int, trace_id: str) -> Delivery | None:
    """Mark the delivery ``Failed`` with its event, in one transaction; safe to repeat.

    ``None`` when there is no failure to record: the delivery is gone or ``Processed``, already
    ``Failed``, or its event is recorded (a try of the consumer wrote it and then failed to mark the
    delivery, which is marked ``Processed`` here). The transaction also holds only while that event is
    not recorded, so a late copy of the message that records it meanwhile cancels the failure instead
    of being contradicted by it.
    """
    context = {"trace_id": trace_id, "tenant_id": tenant_id, "delivery_id": delivery_id}
    current = store.get(tenant_id, delivery_id, with_payload=False)
    if current is None or current.status == DeliveryStatus.PROCESSED:
        status = current.status.value if current else "gone"
        logger.info("inbound dead letter for a delivery not in flight; left as is", extra={**context, "status": status})
        return None
    event_id = handoff.event_id_for(delivery_id)
    if events.exists(tenant_id, event_id):
        _processed(current, event_id, context)
        return None
    if current.status != DeliveryStatus.RECEIVED:
        logger.info("inbound dead letter for a delivery already Failed; left as is", extra=context)
        return None
    reason = failure_reason(receive_count, trace_id)
    failed = current.model_copy(
        update={"status": DeliveryStatus.FAILED, "failure_reason": reason, "failed_at": now_text()}
    )
    data = {
        "deliveryId": delivery_id,
        "connectionId": failed.connection_id,
        "providerId": failed.provider_id,
        "reason": reason,
    }
    event = new_event(tenant_id, catalog.DELIVERY_FAILED, data, source="inbound", event_id=failed_event_id(failed))
    entry = store.failed_entry(tenant_id, delivery_id, reason, str(failed.failed_at))
    if not commit(entry, event, unless_recorded=event_id):
        if events.exists(tenant_id, event_id):
            _processed(current, event_id, context)
        else:
            logger.info("inbound dead letter: the delivery changed meanwhile; left as is", extra=context)
        return None
    logger.error("inbound delivery failed", extra={**context, "receive_count": receive_count, "reason": reason})
    count_failed_delivery()
    return failed


def _processed(delivery: Delivery, event_id: str, context: dict[str, str]) -> None:
    """The consumer recorded the delivery's event and failed only to mark it: it is processed (and counted)."""
    if store.mark_processed(delivery.tenant_id, delivery.delivery_id, event_id, now_text()):
        stats.record(stats.for_connection(delivery.tenant_id, delivery.connection_id).inbound("accepted"))
    logger.info("inbound dead letter whose event is recorded; marked Processed", extra=context)


def redrive(tenant_id: str, delivery_id: str) -> Delivery:
    """``POST /webhooks/deliveries/{id}/redrive``: a ``Failed`` delivery goes back to the consumer."""
    redriven = store.mark_redriven(tenant_id, delivery_id)
    if redriven is None:
        current = store.get(tenant_id, delivery_id, with_payload=False)
        if current is None:
            raise NotFound(f"Delivery '{delivery_id}' was not found.")
        raise Conflict(f"Delivery '{delivery_id}' is {current.status.value}; only a Failed delivery can be redriven.")
    logger.info(
        "inbound delivery redriven",
        extra={"trace_id": redriven.trace_id, "delivery_id": delivery_id, "redrive_count": redriven.redrive_count},
    )
    try:
        queue.send(handoff.message(redriven))
    except Exception as exc:
        # Back to Failed, so the caller's retry of the redrive is not refused as "not Failed".
        logger.exception("inbound redrive could not queue the delivery", extra={"delivery_id": delivery_id})
        store.mark_failed(
            tenant_id, delivery_id, "a redrive could not queue the delivery; redrive it again", now_text()
        )
        raise ServiceUnavailable("The delivery could not be queued; redrive it again.") from exc
    return redriven
