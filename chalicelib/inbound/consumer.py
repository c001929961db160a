"""The inbound-events SQS consumer: a batch's records processed concurrently, failures reported per item.

Each record is one delivery to turn into its event (``processing.process``: two
conditional writes); the records of a batch run at once on a pool as wide as
the batch (``chalicelib.core.batch``), as the dispatcher does, so a batch of ten
takes about as long as one. A record that fails is named in
``batchItemFailures`` and SQS redelivers only it.
"""

from __future__ import annotations

from typing import Any

from chalicelib.core import jsontext
from chalicelib.core.batch import SqsRecord, handle_concurrently, pool
from chalicelib.core.context import set_trace_id
from chalicelib.core.logging import logger
from chalicelib.inbound import processing
from chalicelib.stats import record as stats

BATCH_SIZE = 10  # the event source mapping's batch size (app.py)


def _record(record: SqsRecord) -> None:
    message = jsontext.read(record.body)
    trace_id = str(message.get("traceId") or "")
    if trace_id:
        set_trace_id(trace_id)
    try:
        processing.process(message)
    except Exception:
        # The error lives only here: the dead-letter consumer's failureReason points at this trace id.
        receives = record.receive_count
        logger.exception(
            "inbound delivery processing failed; SQS retries it",
            extra={"trace_id": trace_id, "delivery_id": message.get("deliveryId"), "receive_count": receives},
        )
        raise


def handle_batch(event: dict[str, Any]) -> dict[str, Any]:
    with stats.collecting():  # the batch's "accepted" counts, summed: written per connection at most every few seconds
        return handle_concurrently(event, _record, pool("inbound", BATCH_SIZE))
