"""An SQS batch handled concurrently, its failures still reported per record, exactly.

Lambda hands a queue function up to ten records; handled one after another their
AWS round trips add up, so the records run on a shared thread pool and the batch
takes about as long as its slowest record. Each record runs in a fresh
``contextvars`` context, so one record's trace id never leaks into another's
logs. The outcome of each record is kept against that very record (not its
``messageId``, which a hand-built event may repeat), then handed to Powertools'
``BatchProcessor``, which reports exactly the failed records as
``batchItemFailures`` (and, when asked, raises when every record failed).

A FIFO batch runs its message groups concurrently but each group's records in
order, stopping the group at its first failure; Powertools'
``SqsFifoPartialProcessor`` (``skip_group_on_error``) then reports that record
and every later one of its group, which SQS FIFO needs to keep the order.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    SqsFifoPartialProcessor,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

_pools: dict[str, ThreadPoolExecutor] = {}
_lock = threading.Lock()


def pool(name: str, size: int) -> ThreadPoolExecutor:
    """One pool per name and process, created on first use (none at import: cold start)."""
    with _lock:
        executor = _pools.get(name)
        if executor is None:
            executor = _pools[name] = ThreadPoolExecutor(size, name)
    return executor


def handle_concurrently(
    event: dict[str, Any],
    handle_record: Callable[[SQSRecord], None],
    executor: ThreadPoolExecutor,
    *,
    raise_on_entire_batch_failure: bool = True,
) -> dict[str, Any]:
    """Run ``handle_record`` for every record at once; ``{"batchItemFailures": [...]}`` names the ones that raised."""
    records: list[dict[str, Any]] = event.get("Records", [])

    def run(record: dict[str, Any]) -> Exception | None:
        try:
            contextvars.Context().run(handle_record, SQSRecord(record))
        except Exception as exc:
            return exc
        return None

    errors = {id(record): error for record, error in zip(records, executor.map(run, records), strict=True)}

    def replay(record: SQSRecord) -> None:
        error = errors[id(record.raw_event)]
        if error is not None:
            raise error

    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=raise_on_entire_batch_failure)
    return dict(process_partial_response(event=event, record_handler=replay, processor=processor))


def handle_fifo_concurrently(
    event: dict[str, Any], handle_record: Callable[[SQSRecord], None], executor: ThreadPoolExecutor
) -> dict[str, Any]:
    """Groups at once, records of a group in order; a group's records after its first failure are not run."""
    records: list[dict[str, Any]] = event.get("Records", [])
    groups: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        groups.setdefault(record.get("attributes", {}).get("MessageGroupId", ""), []).append(record)
    errors: dict[int, Exception] = {}

    def run(members: list[dict[str, Any]]) -> None:
        for record in members:
            try:
                contextvars.Context().run(handle_record, SQSRecord(record))
            except Exception as exc:
                errors[id(record)] = exc
                return

    list(executor.map(run, groups.values()))

    def replay(record: SQSRecord) -> None:
        error = errors.get(id(record.raw_event))
        if error is not None:
            raise error

    processor = SqsFifoPartialProcessor(skip_group_on_error=True)
    processor.raise_on_entire_batch_failure = False  # a held retry is routine, not a crash
    return dict(process_partial_response(event=event, record_handler=replay, processor=processor))
