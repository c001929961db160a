"""The inbound-events SQS consumer: each record processed alone, failures reported per item."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from chalicelib.core.context import set_trace_id
from chalicelib.inbound import service


def _record(record: SQSRecord) -> None:
    message = json.loads(record.body)
    if message.get("traceId"):
        set_trace_id(str(message["traceId"]))
    service.process(message)


def handle_batch(event: dict[str, Any]) -> dict[str, Any]:
    """A fresh processor per batch: the local runtime may run batches on several threads."""
    processor = BatchProcessor(event_type=EventType.SQS)
    return dict(process_partial_response(event=event, record_handler=_record, processor=processor))
