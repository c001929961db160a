"""The inbound-events SQS consumer: each record processed alone, failures reported per item."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from chalicelib.core.context import set_trace_id
from chalicelib.core.logging import logger
from chalicelib.inbound import service


def _record(record: SQSRecord) -> None:
    message = json.loads(record.body)
    trace_id = str(message.get("traceId") or "")
    if trace_id:
        set_trace_id(trace_id)
    try:
        service.process(message)
    except Exception:
        # The error lives only here: the dead-letter consumer's failureReason points at this trace id.
        receives = record.attributes.approximate_receive_count
        logger.exception(
            "inbound delivery processing failed; SQS retries it",
            extra={"trace_id": trace_id, "delivery_id": message.get("deliveryId"), "receive_count": receives},
        )
        raise


def handle_batch(event: dict[str, Any]) -> dict[str, Any]:
    """A fresh processor per batch: the local runtime may run batches on several threads."""
    processor = BatchProcessor(event_type=EventType.SQS)
    return dict(process_partial_response(event=event, record_handler=_record, processor=processor))
