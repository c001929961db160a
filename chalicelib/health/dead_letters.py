"""Health-check jobs that failed every try: the health-checks dead-letter consumer.

A check job reaches the DLQ only when AWS calls failed on every receive (a
vendor that is down is a recorded ``Unhealthy`` result, not a failure). Left
there, the connection would keep its last result as if it had been checked.
Instead its health becomes ``Unknown`` with ``healthMessage`` "health check
could not run: ..." and ``lastCheckFailedAt``, unless a check recorded since
the job was enqueued knows better, or the connection is gone or inactive. It
is logged with the trace id, counted, and announced as
``ConnectionHealthCheckFailed`` under an id derived from the connection and
the sweep, so a repeated dead letter never emits twice.

A page job (one page of the sweep index) carries no tenant: it is logged and
counted, and the next scheduled sweep covers its connections.
"""

from __future__ import annotations

import hashlib
from typing import Any

from pydantic import ValidationError

from chalicelib.connections import store as connections
from chalicelib.core import jsontext
from chalicelib.core.batch import SqsRecord, handle_in_turn
from chalicelib.core.context import current_trace_id, set_trace_id
from chalicelib.core.logging import logger
from chalicelib.core.metrics import count
from chalicelib.core.timestamps import from_epoch, now_text
from chalicelib.events import catalog
from chalicelib.events.emit import commit, new_event
from chalicelib.health.sweep import SweepJob


def handle_dead_letters(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    return handle_in_turn(event, _dead_record, raise_on_entire_batch_failure=False)


def _dead_record(record: SqsRecord) -> None:
    try:
        job = SweepJob.model_validate(jsontext.read(record.body))
    except (ValueError, ValidationError):
        logger.error("discarding a health-checks dead letter that is not a job", extra={"messageId": record.message_id})
        return
    set_trace_id(job.sweep_id)  # every log line of the sweep's jobs carries it (chalicelib.health.sweep)
    receives = record.receive_count
    sent = record.sent_timestamp
    enqueued_at = from_epoch(int(sent) / 1000) if sent else now_text()
    count("HealthCheckFailed", kind=job.kind)
    if job.kind == "page" or not (job.tenant_id and job.connection_id):
        logger.error(
            "health sweep page job failed every try; the next sweep covers its connections",
            extra={"trace_id": current_trace_id(), "sweepId": job.sweep_id, "shard": job.shard},
        )
        return
    give_up(job.tenant_id, job.connection_id, job.sweep_id, receives, enqueued_at)


def failed_event_id(tenant_id: str, connection_id: str, sweep_id: str) -> str:
    material = f"{tenant_id}/{connection_id}/{catalog.CONNECTION_HEALTH_CHECK_FAILED}/{sweep_id}"
    return "evt-" + hashlib.sha256(material.encode()).hexdigest()[:24]


def give_up(tenant_id: str, connection_id: str, sweep_id: str, receives: int, enqueued_at: str) -> bool:
    """Record that the check could not run and announce it; ``False`` when there was nothing to record."""
    message = (
        f"health check could not run: the check job failed on every try (SQS ApproximateReceiveCount {receives}); "
        f"see logs with traceId {sweep_id}"
    )
    context = {"trace_id": current_trace_id(), "tenant_id": tenant_id, "connection_id": connection_id}
    connection = connections.get(tenant_id, connection_id)
    if connection is None:
        logger.info("health dead letter for a connection that is gone; skipped", extra=context)
        return False
    failed_at = now_text()
    previous = connection.health.value if connection.health else "Unknown"
    data = {
        "connectionId": connection_id,
        "providerId": connection.provider_id,
        "previousStatus": previous,
        "status": "Unknown",
        "message": message,
        "failedAt": failed_at,
    }
    event = new_event(
        tenant_id,
        catalog.CONNECTION_HEALTH_CHECK_FAILED,
        data,
        source="platform.health",
        event_id=failed_event_id(tenant_id, connection_id, sweep_id),
    )
    from chalicelib.connections import health  # after the read: a connection that is gone needs none of it

    if not commit(health.unchecked_entry(tenant_id, connection_id, message, failed_at, enqueued_at), event):
        logger.info("health dead letter not recorded: inactive, checked since, or recorded already", extra=context)
        return False
    logger.error("connection health check failed every try", extra={**context, "receive_count": receives})
    return True
