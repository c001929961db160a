"""Batch handling reports failures per record, exactly as Lambda reads them, even when records share a messageId."""

from __future__ import annotations

import contextvars
import threading
from typing import Any

import pytest

from chalicelib.core.batch import (
    SqsRecord,
    handle_concurrently,
    handle_fifo_concurrently,
    handle_in_turn,
    handle_stream_in_steps,
    pool,
)
from chalicelib.core.context import current_trace_id, set_trace_id
from chalicelib.core.errors import EntireBatchFailed


def record(message_id: str, body: str) -> dict[str, Any]:
    return {"messageId": message_id, "receiptHandle": message_id, "body": body, "attributes": {}}


def test_failures_are_kept_against_their_own_record_not_their_message_id() -> None:
    seen: list[str] = []
    lock = threading.Lock()

    def handle(item: SqsRecord) -> None:
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
    def handle(item: SqsRecord) -> None:
        raise RuntimeError("down")

    event = {"Records": [record("a", "x"), record("b", "y")]}
    with pytest.raises(EntireBatchFailed):
        handle_concurrently(event, handle, pool("test-batch", 4))
    response = handle_concurrently(event, handle, pool("test-batch", 4), raise_on_entire_batch_failure=False)
    assert sorted(f["itemIdentifier"] for f in response["batchItemFailures"]) == ["a", "b"]


def test_a_record_never_sees_another_records_trace_id() -> None:
    traces: dict[str, str] = {}

    def handle(item: SqsRecord) -> None:
        if item.body == "traced":
            set_trace_id("trace-of-the-first")
        traces[item.body] = current_trace_id()

    executor = pool("test-batch-single", 1)  # one thread: the second record runs where the first set its id
    handle_concurrently({"Records": [record("a", "traced"), record("b", "untraced")]}, handle, executor)
    assert traces["traced"] == "trace-of-the-first"
    assert traces["untraced"] != "trace-of-the-first"


BATCH_WIDE: contextvars.ContextVar[str] = contextvars.ContextVar("batch_wide", default="unset")


@pytest.mark.parametrize("runner", ["concurrently", "in turn", "fifo"])
def test_every_record_sees_what_the_caller_set_for_the_batch(runner: str) -> None:
    """What the handler sets around the batch (the stats batch) reaches each record, on the pool's threads too."""
    seen: list[str] = []
    lock = threading.Lock()

    def handle(item: SqsRecord) -> None:
        with lock:
            seen.append(BATCH_WIDE.get())

    event = {"Records": [record(n, n) | {"attributes": {"MessageGroupId": n}} for n in ("a", "b", "c")]}
    token = BATCH_WIDE.set("set by the handler")
    try:
        if runner == "concurrently":
            handle_concurrently(event, handle, pool("test-batch", 4))
        elif runner == "in turn":
            handle_in_turn(event, handle)
        else:
            handle_fifo_concurrently(event, handle, pool("test-batch", 4))
    finally:
        BATCH_WIDE.reset(token)
    assert seen == ["set by the handler"] * 3


def test_in_turn_reports_exactly_the_failed_records_in_order() -> None:
    order: list[str] = []

    def handle(item: SqsRecord) -> None:
        order.append(item.body)
        if item.body == "bad":
            raise ValueError("bad")

    event = {"Records": [record("a", "ok"), record("b", "bad"), record("c", "ok-too")]}
    assert handle_in_turn(event, handle) == {"batchItemFailures": [{"itemIdentifier": "b"}]}
    assert order == ["ok", "bad", "ok-too"]
    assert handle_in_turn({"Records": []}, handle) == {"batchItemFailures": []}
    with pytest.raises(EntireBatchFailed) as failed:
        handle_in_turn({"Records": [record("b", "bad")]}, handle)
    assert [str(error) for error in failed.value.errors] == ["bad"]


def change(sequence: str, name: str) -> dict[str, Any]:
    return {"eventID": sequence, "eventName": name, "dynamodb": {"SequenceNumber": sequence}}


def reported(response: dict[str, Any]) -> list[str]:
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]


def test_a_stream_batch_stops_at_its_first_failure_and_reports_it_and_every_later_record() -> None:
    """Lambda retries a shard from the first failed record: nothing after it may have been finished."""
    planned: list[str] = []
    sent: list[list[str]] = []
    finished: list[str] = []

    def plan(item: dict[str, Any]) -> str:
        planned.append(item["eventID"])
        if item["eventName"] == "REMOVE":
            raise RuntimeError("no plan")
        return str(item["eventID"])

    def send(plans: list[str]) -> int:
        sent.append(plans)
        return plans.index("400") if "400" in plans else len(plans)  # 400's sends were refused

    def finish(plan: str) -> None:
        finished.append(plan)
        if plan == "300":
            raise RuntimeError("no finish")

    def run(*records: dict[str, Any]) -> list[str]:
        for seen in (planned, sent, finished):
            seen.clear()
        return reported(handle_stream_in_steps({"Records": list(records)}, plan, send, finish))

    assert run(change("100", "INSERT"), change("200", "REMOVE"), change("300", "INSERT")) == ["200", "300"]
    assert (planned, sent, finished) == (["100", "200"], [["100"]], ["100"])
    assert run(change("100", "INSERT"), change("400", "INSERT"), change("500", "INSERT")) == ["400", "500"]
    assert (sent, finished) == ([["100", "400", "500"]], ["100"]), "sent together, finished up to the refusal"
    assert run(change("100", "INSERT"), change("300", "INSERT"), change("500", "INSERT")) == ["300", "500"]
    assert finished == ["100", "300"]
    assert run(change("200", "REMOVE"), change("100", "INSERT")) == ["200", "100"]  # no EntireBatchFailed
    assert sent == []
    assert run(change("100", "INSERT"), change("500", "INSERT")) == []


def test_a_stream_batch_whose_sends_raise_finishes_nothing() -> None:
    def send(plans: list[str]) -> int:
        raise RuntimeError("queue gone")

    finished: list[str] = []
    response = handle_stream_in_steps({"Records": [change("100", "INSERT")]}, str, send, finished.append)
    assert reported(response) == ["100"] and finished == []


def test_a_record_exposes_the_attributes_handlers_read() -> None:
    raw = record("m", "body") | {"attributes": {"ApproximateReceiveCount": "3", "SentTimestamp": "1700000000000"}}
    item = SqsRecord(raw)
    assert (item.message_id, item.receipt_handle, item.body) == ("m", "m", "body")
    assert (item.receive_count, item.sent_timestamp) == (3, 1_700_000_000_000)
    assert (SqsRecord(record("n", "")).receive_count, SqsRecord(record("n", "")).sent_timestamp) == (0, None)
