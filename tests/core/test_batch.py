"""Concurrent batch handling reports failures per record, even when records share a messageId."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from chalicelib.core.batch import handle_concurrently, pool
from chalicelib.core.context import current_trace_id, set_trace_id


def record(message_id: str, body: str) -> dict[str, Any]:
    return {"messageId": message_id, "receiptHandle": message_id, "body": body, "attributes": {}}


def test_failures_are_kept_against_their_own_record_not_their_message_id() -> None:
    seen: list[str] = []
    lock = threading.Lock()

    def handle(item: SQSRecord) -> None:
        with lock:
            seen.append(item.body)
        if item.body.startswith("fail"):
            raise ValueError(item.body)

    # chalice.test gives every record the same messageId; the outcome must follow the record itself.
    event = {"Records": [record("same", "ok-1"), record("same", "ok-2"), record("other", "fail-1")]}
    response = handle_concurrently(event, handle, pool("test-batch", 4))
    assert response == {"batchItemFailures": [{"itemIdentifier": "other"}]}
    assert sorted(seen) == ["fail-1", "ok-1", "ok-2"]


def test_an_entirely_failed_batch_raises_unless_told_not_to() -> None:
    def handle(item: SQSRecord) -> None:
        raise RuntimeError("down")

    event = {"Records": [record("a", "x"), record("b", "y")]}
    with pytest.raises(BatchProcessingError):
        handle_concurrently(event, handle, pool("test-batch", 4))
    response = handle_concurrently(event, handle, pool("test-batch", 4), raise_on_entire_batch_failure=False)
    assert sorted(f["itemIdentifier"] for f in response["batchItemFailures"]) == ["a", "b"]


def test_a_record_never_sees_another_records_trace_id() -> None:
    traces: dict[str, str] = {}

    def handle(item: SQSRecord) -> None:
        if item.body == "traced":
            set_trace_id("trace-of-the-first")
        traces[item.body] = current_trace_id()

    executor = pool("test-batch-single", 1)  # one thread: the second record runs where the first set its id
    handle_concurrently({"Records": [record("a", "traced"), record("b", "untraced")]}, handle, executor)
    assert traces["traced"] == "trace-of-the-first"
    assert traces["untraced"] != "trace-of-the-first"
