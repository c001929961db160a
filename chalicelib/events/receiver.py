"""The bus-events SQS handlers: other services' EventBridge events recorded as platform events.

A malformed event (no tenant, type or data object) cannot be attributed to
anyone: it is logged with the reason and acknowledged, never retried. An AWS
failure is a batch item failure, so SQS redelivers it. One that failed every
try reaches the dead-letter queue, whose consumer logs and counts it and
records it once more (recording is idempotent on EventBridge's id); if that
fails too, it stays in the dead-letter queue for ``python -m infra.ops.redrive
bus-events`` once the cause is fixed.
"""

from __future__ import annotations

from typing import Any

from chalicelib.core import jsontext
from chalicelib.core.batch import SqsRecord, handle_in_turn
from chalicelib.core.logging import logger
from chalicelib.core.metrics import count
from chalicelib.events import bus


def _record(record: SqsRecord) -> None:
    try:
        message = jsontext.read(record.body)
        if not isinstance(message, dict):
            raise bus.BusEventRejected("the message is not an EventBridge event")
        bus.receive(message)
    except (bus.BusEventRejected, ValueError) as rejected:
        logger.warning("event from the bus rejected", extra={"reason": str(rejected), "messageId": record.message_id})


def _dead_record(record: SqsRecord) -> None:
    receives = record.receive_count
    logger.error(
        "a bus event failed every try; recording it from its dead letter",
        extra={"messageId": record.message_id, "receiveCount": receives},
    )
    count("BusEventDeadLettered")
    _record(record)


def handle(event: dict[str, Any]) -> dict[str, Any]:
    return handle_in_turn(event, _record, raise_on_entire_batch_failure=False)


def handle_dead_letters(event: dict[str, Any]) -> dict[str, Any]:
    return handle_in_turn(event, _dead_record, raise_on_entire_batch_failure=False)
