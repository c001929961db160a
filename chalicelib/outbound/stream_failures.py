"""The events stream's failure destination: batches the stream handler failed on every retry.

When the events stream's mapping gives a batch up (its retries or record age
spent, ``infra/template.json``), Lambda sends the batch's place, not its
records, to the ``events-stream-failures`` queue: the shard and the first and
last sequence numbers (``DDBStreamBatchInfo``). This consumer reads that range
back from the stream and marks every event the stream would have published
(``events.store.published``) as not fanned out (``events.store.unpublished_entry``):
an inbound delivery becomes ``Failed`` with the reason and is announced as
``DeliveryFailed`` in the same transaction, as its dead letter was, and ``POST
/webhooks/deliveries/{id}/redrive`` takes it back; any other event keeps its
``failureReason`` and is sent again by ``POST /events/{id}/redeliver``. Each is
logged with its trace id and counted (``EventFanoutFailed``). Marking is safe to
repeat: a second copy of the message finds the items marked already.

A range the stream no longer holds (past its 24 hours, or a shard gone) cannot
be re-read: that is logged as an error with the range and counted
(``EventFanoutUnrecoverable``) and the message is done, since no retry could
read it either. A throttled or failed read raises, and SQS tries the message again.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError
from pydantic import ValidationError

from chalicelib.core import aws, jsontext
from chalicelib.core.batch import SqsRecord, handle_in_turn
from chalicelib.core.context import set_trace_id
from chalicelib.core.dynamo import deserialize
from chalicelib.core.logging import logger
from chalicelib.core.metrics import count
from chalicelib.core.models import WireModel
from chalicelib.core.timestamps import now_text
from chalicelib.events import store as events
from chalicelib.events.emit import commit, delivery_failed

GONE = {"TrimmedDataAccessException", "ResourceNotFoundException", "ExpiredIteratorException"}
DELIVERY_FIELDS = ("deliveryId", "connectionId", "providerId", "redriveCount")
MAX_EMPTY_READS = 3  # an open shard answers empty pages past its last record; a closed one ends the iterator


class BatchInfo(WireModel):
    """``DDBStreamBatchInfo`` of Lambda's failure record."""

    shard_id: str
    start_sequence_number: str
    end_sequence_number: str
    stream_arn: str


def handle(event: dict[str, Any]) -> dict[str, Any]:
    return handle_in_turn(event, _failure, raise_on_entire_batch_failure=False)


def _failure(record: SqsRecord) -> None:
    try:
        message = jsontext.read(record.body)
        info = BatchInfo.model_validate(message["DDBStreamBatchInfo"])
    except (ValueError, TypeError, KeyError, ValidationError):
        logger.error("discarding an events stream failure that names no batch", extra={"messageId": record.message_id})
        return
    condition = str((message.get("requestContext") or {}).get("condition") or "retries exhausted")
    marked = 0
    try:
        for stream_record in records(info):
            marked += mark(stream_record, condition)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in GONE:
            raise
        logger.error(
            "events stream failure: the batch is no longer in the stream; its events stay as they are",
            extra={"batch": info.model_dump(by_alias=True), "marked": marked, "error": str(exc)},
        )
        count("EventFanoutUnrecoverable")
        return
    logger.info("events stream failure handled", extra={"batch": info.model_dump(by_alias=True), "marked": marked})


def records(info: BatchInfo) -> Iterator[dict[str, Any]]:
    """The stream's records from the batch's first sequence number to its last."""
    client = aws.dynamodbstreams()
    iterator: str | None = client.get_shard_iterator(
        StreamArn=info.stream_arn,
        ShardId=info.shard_id,
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        SequenceNumber=info.start_sequence_number,
    )["ShardIterator"]
    end, empty = int(info.end_sequence_number), 0
    while iterator and empty < MAX_EMPTY_READS:
        page = client.get_records(ShardIterator=iterator)
        found = page.get("Records", [])
        empty = 0 if found else empty + 1
        for stream_record in found:
            if int(stream_record["dynamodb"]["SequenceNumber"]) > end:
                return
            yield stream_record
        iterator = page.get("NextShardIterator")


def mark(stream_record: dict[str, Any], condition: str) -> int:
    """Mark the event one record of the batch published; 1 when it was marked now, 0 when there was nothing to."""
    event = events.published(stream_record)
    if event is None:
        return 0
    if event.trace_id:
        set_trace_id(event.trace_id)
    where = f"see logs with traceId {event.trace_id}" if event.trace_id else "see the events stream's logs"
    reason = f"its fan-out failed on every try of the events stream ({condition}); {where}"
    context = {"eventId": event.event_id, "tenant_id": event.tenant_id, "type": event.type}
    entry = events.unpublished_entry(stream_record, reason, now_text())
    image = deserialize({k: v for k, v in stream_record["dynamodb"]["NewImage"].items() if k in DELIVERY_FIELDS})
    announced = None
    if "deliveryId" in image:  # an inbound delivery: Failed, and announced as its dead letter was
        redrives = int(image.get("redriveCount") or 0)
        announced = delivery_failed(event.tenant_id, image, reason, redrives, event.expires_at)
    if not commit(entry, announced):
        logger.info("events stream failure: the event changed since (redriven, or gone); left as is", extra=context)
        return 0
    logger.error("event not fanned out: marked for a redrive", extra={**context, "reason": reason})
    count("EventFanoutFailed")
    return 1
