"""Queue and stream batches, their failures reported per record, exactly; without Powertools' batch utilities.

Lambda hands a queue function up to ten records and a stream function a shard's
records; the function answers ``{"batchItemFailures": [{"itemIdentifier": ...}]}``
naming exactly the records to retry (an SQS ``messageId``, a stream record's
``SequenceNumber``). Powertools' ``BatchProcessor`` did this, but importing it
(its event data classes, parser models and ``asyncio``) cost a queue function
about 0.4 of the cold-start floor (docs/performance.md "Cold start and
package"), so this module keeps the same contract in a few lines:

- every record runs in its own copy of the caller's ``contextvars`` context, so
  one record's trace id never leaks into another's logs, while what the handler
  set up for the whole batch (``chalicelib.stats.record.collecting``) reaches
  every record, on the pool's threads too;
- the outcome of each record is kept against that very record (not its
  ``messageId``, which a hand-built event may repeat);
- when every record failed, ``EntireBatchFailed`` is raised unless the caller
  says otherwise, and Lambda retries the whole batch.

``handle_concurrently`` runs a queue batch on a shared thread pool, so the batch
takes about as long as its slowest record; ``handle_in_turn`` runs the records
one after another, for handlers whose records must not overlap.
``handle_stream_in_steps`` keeps a stream's semantics (in order, and nothing
after the first failure is finished: Lambda retries the shard from that record)
while the records' sends go out together, ten to a request, not per record.

``handle_fifo_concurrently`` runs a FIFO batch's message groups at once but each
group's records in order, stopping a group at its first failure and reporting
that record and every later one of its group, which SQS FIFO needs to keep the
order (Powertools' ``SqsFifoPartialProcessor`` with ``skip_group_on_error``).
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from chalicelib.core.errors import EntireBatchFailed
from chalicelib.core.logging import logger

_pools: dict[str, ThreadPoolExecutor] = {}
_lock = threading.Lock()
_Record = TypeVar("_Record")
_Plan = TypeVar("_Plan")


class SqsRecord:
    """One SQS record of a Lambda event: the fields our handlers read, typed."""

    __slots__ = ("raw",)

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw

    @property
    def body(self) -> str:
        return str(self.raw.get("body") or "")

    @property
    def message_id(self) -> str:
        return str(self.raw["messageId"])

    @property
    def receipt_handle(self) -> str:
        return str(self.raw["receiptHandle"])

    @property
    def receive_count(self) -> int:
        """``ApproximateReceiveCount``: 1 on the first delivery; 0 when the event does not say."""
        return int(self.raw.get("attributes", {}).get("ApproximateReceiveCount") or 0)

    @property
    def sent_timestamp(self) -> int | None:
        """``SentTimestamp``, epoch milliseconds, when the event carries it."""
        sent = self.raw.get("attributes", {}).get("SentTimestamp")
        return int(sent) if sent else None


def pool(name: str, size: int) -> ThreadPoolExecutor:
    """One pool per name and process, created on first use (none at import: cold start)."""
    with _lock:
        executor = _pools.get(name)
        if executor is None:
            executor = _pools[name] = ThreadPoolExecutor(size, name)
    return executor


def handle_concurrently(
    event: dict[str, Any],
    handle_record: Callable[[SqsRecord], None],
    executor: ThreadPoolExecutor,
    *,
    raise_on_entire_batch_failure: bool = True,
) -> dict[str, Any]:
    """Run ``handle_record`` for every SQS record at once; report the ones that raised."""
    records: list[dict[str, Any]] = event.get("Records", [])
    parent = contextvars.copy_context()
    errors = executor.map(lambda record: _run(handle_record, SqsRecord(record), parent), records)
    return _report(records, list(errors), _message_id, raise_on_entire_batch_failure)


def handle_in_turn(
    event: dict[str, Any],
    handle_record: Callable[[SqsRecord], None],
    *,
    raise_on_entire_batch_failure: bool = True,
) -> dict[str, Any]:
    """Run ``handle_record`` for each SQS record, one after another; report the ones that raised."""
    records: list[dict[str, Any]] = event.get("Records", [])
    parent = contextvars.copy_context()
    errors = [_run(handle_record, SqsRecord(record), parent) for record in records]
    return _report(records, errors, _message_id, raise_on_entire_batch_failure)


def handle_stream_in_steps(
    event: dict[str, Any],
    plan: Callable[[dict[str, Any]], _Plan],
    send: Callable[[list[_Plan]], int],
    finish: Callable[[_Plan], None],
) -> dict[str, Any]:
    """A DynamoDB stream batch whose records' sends go out together, with the stream's semantics kept.

    ``plan`` each record (the raw dict), in order, up to the first that raises; ``send`` those plans at once,
    which answers how many of them, from the first, had everything sent; then ``finish`` each of those, in
    order, up to the first that raises. The first record not planned, sent in full or finished is reported
    with every later one: Lambda retries the shard from it. ``send`` may have sent part of what a reported
    record needs, so a retry sends copies: a record's sends must be idempotent (dispatch messages carry
    their delivery id). A batch that failed at its first record raises nothing (a retry is routine).
    """
    records: list[dict[str, Any]] = event.get("Records", [])
    parent = contextvars.copy_context()
    plans: list[_Plan] = []
    for record in records:
        try:
            plans.append(parent.copy().run(plan, record))
        except Exception:
            logger.exception("stream record failed", extra={"sequenceNumber": _sequence_number(record)})
            break
    try:
        sent = min(len(plans), parent.copy().run(send, plans)) if plans else 0
    except Exception:
        logger.exception("stream batch's sends failed")
        sent = 0
    done = 0
    while done < sent:
        error = _run(finish, plans[done], parent)
        if error is not None:
            where = {"sequenceNumber": _sequence_number(records[done])}
            logger.error("stream record failed", exc_info=error, extra=where)
            break
        done += 1
    return {"batchItemFailures": [{"itemIdentifier": _sequence_number(r)} for r in records[done:]]}


def _run(handle_record: Callable[[_Record], None], record: _Record, parent: contextvars.Context) -> Exception | None:
    """One record in a copy of the context the batch was handed over in."""
    try:
        parent.copy().run(handle_record, record)
    except Exception as exc:
        return exc
    return None


def _message_id(record: dict[str, Any]) -> str | None:
    identifier = record.get("messageId")
    return str(identifier) if identifier is not None else None


def _sequence_number(record: dict[str, Any]) -> str | None:
    identifier = record.get("dynamodb", {}).get("SequenceNumber")
    return str(identifier) if identifier is not None else None


def _report(
    records: list[dict[str, Any]],
    errors: Iterable[Exception | None],
    identify: Callable[[dict[str, Any]], str | None],
    raise_on_entire_batch_failure: bool,
) -> dict[str, Any]:
    failed = [(record, error) for record, error in zip(records, errors, strict=True) if error is not None]
    if failed and len(failed) == len(records) and raise_on_entire_batch_failure:
        raise EntireBatchFailed([error for _, error in failed])
    return {"batchItemFailures": [{"itemIdentifier": identify(record)} for record, _ in failed]}


def handle_fifo_concurrently(
    event: dict[str, Any], handle_record: Callable[[SqsRecord], None], executor: ThreadPoolExecutor
) -> dict[str, Any]:
    """Groups at once, records of a group in order; a group's records after its first failure are not run.

    The failed record and every later one of its group are reported; a batch that failed whole raises
    nothing (a held retry is routine, not a crash).
    """
    records: list[dict[str, Any]] = event.get("Records", [])
    groups: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        groups.setdefault(record.get("attributes", {}).get("MessageGroupId", ""), []).append(record)

    parent = contextvars.copy_context()

    def run(members: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for index, record in enumerate(members):
            if _run(handle_record, SqsRecord(record), parent) is not None:
                return members[index:]
        return []

    held = {id(record) for skipped in executor.map(run, groups.values()) for record in skipped}
    return {"batchItemFailures": [{"itemIdentifier": _message_id(r)} for r in records if id(r) in held]}
