"""Ordered delivery: a subscription's deliveries through the SQS FIFO queue, one group at a time.

A subscription with ``delivery: "ordered"`` has its dispatch messages sent to
``<prefix>-outbound-ordered.fifo`` in a message group of its own
(``chalicelib.outbound.ordering``), so SQS hands out a group's messages one
after another, in the order sent.

A failed attempt must hold its group back, so it is not re-sent as a new
delayed message (later messages would overtake it): the record is reported as
a batch item failure and its visibility timeout set to the retry delay, and
SQS delivers that same message again first. The body cannot change between
receives, so the attempt number comes from the delivery's latest-status item,
keyed by the message's ``deliveryId`` and read with the batch's subscriptions
(one BatchGetItem, ``dispatcher.prepare``). Once a record of a group
fails, every later record of that group in the batch is reported failed too
(``chalicelib.core.batch.handle_fifo_concurrently``), as SQS FIFO requires;
other groups carry on. Those skipped records are made visible
again at once, so the group is free as soon as its held message is due. The group is released when the message
succeeds, is dead-lettered (the dispatcher parks it in the FIFO DLQ itself and
acknowledges it) or finds its subscription disabled (finished at once as a
failed attempt and dead-lettered, no HTTP call). A message received again after
its final attempt was recorded (the Lambda died before acknowledging it) is
acknowledged without another send.
"""

from __future__ import annotations

from typing import Any

from chalicelib.core import aws
from chalicelib.core.batch import SqsRecord, handle_fifo_concurrently, pool
from chalicelib.core.logging import logger
from chalicelib.outbound import deliveries, dispatcher, queue
from chalicelib.outbound.config import get_outbound_settings
from chalicelib.stats import record as stats

MAX_VISIBILITY_SECONDS = 12 * 3600


class HeldForRetry(Exception):
    """The record failed an attempt: its group waits for it to come back after the retry delay."""


def hold(record: SqsRecord, delay: float) -> None:
    """Keep the message hidden until its next attempt is due; SQS then delivers it before its group's later ones."""
    seconds = max(0, min(MAX_VISIBILITY_SECONDS, round(delay)))
    aws.sqs().change_message_visibility(
        QueueUrl=queue.queue_url(queue.ordered_queue_name()),
        ReceiptHandle=record.receipt_handle,
        VisibilityTimeout=seconds,
    )


def handle(event: dict[str, Any]) -> dict[str, Any]:
    """Lambda entry for the FIFO queue: groups run concurrently, each group's records one after another."""
    batch = dispatcher.prepare(event)

    attempted: set[str] = set()

    def run(record: SqsRecord) -> None:
        attempted.add(record.message_id)
        message = batch.messages[record.message_id]
        if isinstance(message, Exception):
            raise message
        made = deliveries.attempts_so_far(batch.status(message), message.delivery_id)
        if made is None:
            logger.info("ordered delivery already finished; acknowledged", extra={"deliveryId": message.delivery_id})
            return
        current = message.model_copy(update={"attempt": made + 1, "due_at": None})
        try:
            wait = dispatcher.deliver(current, batch.subscription(message))
        except Exception:
            logger.exception("ordered dispatch record failed", extra={"messageId": record.message_id})
            raise
        if wait is not None:
            hold(record, wait)
            raise HeldForRetry(f"attempt {current.attempt} failed; next in {wait:.0f} s")

    executor = pool("ordered", get_outbound_settings().max_concurrency)
    with stats.collecting():  # the batch's attempts, summed: written per subscription at most every few seconds
        result = handle_fifo_concurrently(event, run, executor)
    failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
    _release([r for r in event.get("Records", []) if r["messageId"] in failed - attempted])
    return result


def _release(skipped: list[dict[str, Any]]) -> None:
    """Make records skipped behind a failure visible again at once (best effort).

    While they stay in flight SQS hands out nothing of their group, not even the
    held message when it is due; visible, they wait behind it in order.
    """
    if not skipped:
        return
    url = queue.queue_url(queue.ordered_queue_name())
    entries: Any = [
        {"Id": str(i), "ReceiptHandle": r["receiptHandle"], "VisibilityTimeout": 0} for i, r in enumerate(skipped)
    ]
    try:
        for start in range(0, len(entries), 10):
            aws.sqs().change_message_visibility_batch(QueueUrl=url, Entries=entries[start : start + 10])
    except Exception:
        logger.exception("could not release skipped ordered records; they return after the visibility timeout")
