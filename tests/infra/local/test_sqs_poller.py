"""The local SQS event source mapping against moto, with a real Chalice app.

The queues here have a one-second visibility timeout and ``maxReceiveCount``
2, so redelivery and dead-lettering happen within the test.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.app import Chalice, SQSEvent

from chalicelib.core.aws import sqs
from infra.local.sqs_poller import SqsPoller, discover_pollers, failed_ids
from tests.support.waiting import poll

REGION = "us-east-1"
VISIBILITY = 1


class Queue:
    def __init__(self) -> None:
        self.name = f"integration-platform-test-poller-{secrets.token_hex(4)}"
        self.dlq_url = sqs().create_queue(QueueName=f"{self.name}-dlq")["QueueUrl"]
        dlq_arn = sqs().get_queue_attributes(QueueUrl=self.dlq_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        self.url = sqs().create_queue(
            QueueName=self.name,
            Attributes={
                "VisibilityTimeout": str(VISIBILITY),
                "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}),
            },
        )["QueueUrl"]
        self.arn = sqs().get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    def send(self, *bodies: str) -> dict[str, str]:
        """Body -> the message id SQS assigned."""
        return {body: sqs().send_message(QueueUrl=self.url, MessageBody=body)["MessageId"] for body in bodies}

    def counts(self) -> tuple[int, int]:
        attributes = sqs().get_queue_attributes(
            QueueUrl=self.url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])

    def dead_letters(self) -> list[str]:
        messages = sqs().receive_message(QueueUrl=self.dlq_url, MaxNumberOfMessages=10).get("Messages", [])
        return sorted(m["MessageId"] for m in messages)


class Consumer:
    """A real Chalice app whose handler fails every record whose body starts with "fail"."""

    def __init__(self, queue: Queue, batch_size: int = 10, raises: bool = False) -> None:
        self.batches: list[list[dict[str, Any]]] = []
        self.contexts: list[Any] = []
        self.app = Chalice(app_name="poller-test")

        @self.app.on_sqs_message(queue=queue.name, batch_size=batch_size)
        def consume(event: SQSEvent) -> dict[str, Any]:
            records = [record.to_dict() for record in event]
            self.batches.append(records)
            self.contexts.append(event.context)
            if raises:
                raise RuntimeError("handler crashed")
            failures = [{"itemIdentifier": r["messageId"]} for r in records if r["body"].startswith("fail")]
            return {"batchItemFailures": failures}

    def poller(self) -> SqsPoller:
        (poller,) = discover_pollers(self.app, sqs(), "test", REGION)
        return poller


@pytest.fixture
def queue(aws: None) -> Iterator[Queue]:
    created = Queue()
    yield created
    sqs().delete_queue(QueueUrl=created.url)
    sqs().delete_queue(QueueUrl=created.dlq_url)


def test_failed_records_return_after_the_visibility_timeout_and_then_dead_letter(queue: Queue) -> None:
    consumer = Consumer(queue)
    poller = consumer.poller()
    sent = queue.send("ok-1", "ok-2", "fail-1", "fail-2")
    sqs().send_message(
        QueueUrl=queue.url,
        MessageBody="ok-attrs",
        MessageAttributes={"tenant": {"DataType": "String", "StringValue": "acme"}},
    )

    outcome = poller.poll_once(wait_seconds=0)

    assert outcome is not None
    (batch,) = consumer.batches
    assert len({r["messageId"] for r in batch}) == 5
    assert {r["body"]: r["messageId"] for r in batch if r["body"] != "ok-attrs"} == sent
    assert sorted(outcome.failed) == sorted([sent["fail-1"], sent["fail-2"]])
    for record in batch:
        assert record["eventSource"] == "aws:sqs"
        assert record["eventSourceARN"] == queue.arn
        assert record["awsRegion"] == REGION
        assert record["attributes"]["ApproximateReceiveCount"] == "1"
        assert record["receiptHandle"]
    (with_attrs,) = [r for r in batch if r["body"] == "ok-attrs"]
    assert with_attrs["messageAttributes"]["tenant"]["stringValue"] == "acme"
    assert with_attrs["messageAttributes"]["tenant"]["dataType"] == "String"
    assert consumer.contexts[0].function_name == "poller-test-test-consume"
    assert 0 < consumer.contexts[0].get_remaining_time_in_millis() <= 60_000
    # Successes are deleted; failures are in flight, hidden until the visibility timeout.
    assert queue.counts() == (0, 2)
    assert poller.poll_once(wait_seconds=0) is None

    poll(lambda: queue.counts() == (2, 0), "the failed records to show again after the visibility timeout")
    again = poller.poll_once(wait_seconds=0)

    assert again is not None
    assert sorted(again.received) == sorted([sent["fail-1"], sent["fail-2"]])
    assert {r["attributes"]["ApproximateReceiveCount"] for r in consumer.batches[1]} == {"2"}

    # maxReceiveCount is 2: SQS (moto) moves them to the DLQ, on the next receive, instead of delivering a third time.
    poll(lambda: queue.counts() == (2, 0), "the failed records to show again after the visibility timeout")
    assert poller.poll_once(wait_seconds=0) is None
    assert queue.dead_letters() == sorted([sent["fail-1"], sent["fail-2"]])
    assert queue.counts() == (0, 0)


def test_an_exception_leaves_the_whole_batch_for_redelivery(queue: Queue) -> None:
    consumer = Consumer(queue, raises=True)
    poller = consumer.poller()
    sent = queue.send("ok-1", "ok-2", "ok-3")

    outcome = poller.poll_once(wait_seconds=0)

    assert outcome is not None
    assert sorted(outcome.failed) == sorted(sent.values())
    assert queue.counts() == (0, 3)
    poll(lambda: queue.counts() == (3, 0), "the batch to show again after the visibility timeout")
    again = poller.poll_once(wait_seconds=0)
    assert again is not None
    assert sorted(again.received) == sorted(sent.values())


def test_a_batch_larger_than_one_receive_reaches_the_handler_whole(queue: Queue) -> None:
    consumer = Consumer(queue, batch_size=15)
    poller = consumer.poller()
    sent = queue.send(*(f"ok-{i}" for i in range(15)))

    outcome = poller.poll_once(wait_seconds=0)

    assert outcome is not None
    assert len(consumer.batches) == 1
    assert sorted(r["messageId"] for r in consumer.batches[0]) == sorted(sent.values())
    assert queue.counts() == (0, 0)


def test_the_poller_thread_consumes_and_stops(queue: Queue) -> None:
    consumer = Consumer(queue)
    poller = consumer.poller()
    stop = threading.Event()
    thread = threading.Thread(target=poller.run, args=(stop,), daemon=True)
    thread.start()
    sent = queue.send("ok-threaded")
    poll(lambda: consumer.batches, "the poller thread to hand on a batch", interval=0.05)
    stop.set()
    poll(lambda: not thread.is_alive(), "the poller thread to stop", interval=0.05)

    assert [r["messageId"] for r in consumer.batches[0]] == [sent["ok-threaded"]]
    assert queue.counts() == (0, 0)


def test_discovery_finds_handlers_by_queue_arn_and_rejects_unknown_queues(queue: Queue) -> None:
    app = Chalice(app_name="poller-test")

    @app.on_sqs_message(queue_arn=queue.arn, name="by_arn")
    def by_arn(event: SQSEvent) -> None:
        return None

    (poller,) = discover_pollers(app, sqs(), "test", REGION)
    assert (poller.queue_url, poller.function.name, poller.batch_size) == (queue.url, "by_arn", 1)

    @app.on_sqs_message(queue="integration-platform-test-no-such-queue")
    def lost(event: SQSEvent) -> None:
        return None

    with pytest.raises(LookupError, match="no-such-queue"):
        discover_pollers(app, sqs(), "test", REGION)


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (None, set()),
        ({}, set()),
        ({"batchItemFailures": []}, set()),
        ({"batchItemFailures": [{"itemIdentifier": "b"}]}, {"b"}),
        ({"batchItemFailures": [{"itemIdentifier": "zzz"}]}, {"a", "b", "c"}),
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, {"a", "b", "c"}),
        ({"batchItemFailures": [{"id": "b"}]}, {"a", "b", "c"}),
        ({"batchItemFailures": "b"}, {"a", "b", "c"}),
    ],
)
def test_batch_item_failures_follow_lambda_rules(result: Any, expected: set[str]) -> None:
    assert failed_ids(result, ["a", "b", "c"]) == expected


def test_the_app_gets_a_poller_for_every_dead_letter_handler(aws: None) -> None:
    """``make run`` runs the DLQ and failure consumers too: discovery covers every ``on_sqs_message`` of ``app.py``."""
    from app import app
    from chalicelib.core.config import get_settings

    pollers = {p.queue_name: p.function.name for p in discover_pollers(app, sqs(), "dev", REGION)}
    settings = get_settings()
    assert pollers[settings.queue_name("events-stream-failures")] == "events_stream_failures"
    assert pollers[settings.dead_letter_queue_name("health-checks")] == "health_check_dead_letters"
    assert pollers[settings.dead_letter_queue_name("runs")] == "run_dead_letters"


def test_a_fifo_group_is_never_in_two_batches_at_once(aws: None) -> None:
    """One batch of a queue at a time; moto holds back a group while one of its messages is in flight.

    (moto quirk: when several messages of one group time out together it may hand out a later one
    first; the ordered handler therefore releases skipped records itself, with visibility 0.)
    """
    name = f"integration-platform-test-poller-{secrets.token_hex(4)}.fifo"
    url = sqs().create_queue(QueueName=name, Attributes={"FifoQueue": "true", "VisibilityTimeout": str(VISIBILITY)})[
        "QueueUrl"
    ]
    seen: list[str] = []
    app = Chalice(app_name="poller-fifo-test")

    @app.on_sqs_message(queue=name, batch_size=1)
    def consume(event: SQSEvent) -> dict[str, Any]:
        records = [record.to_dict() for record in event]
        seen.extend(r["body"] for r in records)
        first_try = seen.count("a1") == 1
        return {
            "batchItemFailures": [
                {"itemIdentifier": r["messageId"]} for r in records if r["body"] == "a1" and first_try
            ]
        }

    for body in ("a1", "b1", "a2", "b2"):
        sqs().send_message(QueueUrl=url, MessageBody=body, MessageGroupId=body[0], MessageDeduplicationId=body)
    (poller,) = discover_pollers(app, sqs(), "test", REGION)
    for _ in range(3):
        poller.poll_once(wait_seconds=0)
    assert seen == ["a1", "b1", "b2"], "group a waits for its failed a1; group b goes on"
    poll(lambda: poller.poll_once(wait_seconds=0), "the failed a1 to come back after the visibility timeout")
    while poller.poll_once(wait_seconds=0):
        pass
    assert seen == ["a1", "b1", "b2", "a1", "a2"], "the failed message comes back first"
    sqs().delete_queue(QueueUrl=url)


def test_the_ordered_queue_and_its_dead_letter_queue_are_fifo(aws: None) -> None:
    from chalicelib.outbound import queue

    for name in (queue.ordered_queue_name(), queue.ordered_dead_letter_queue_name()):
        url = queue.queue_url(name)
        attributes = sqs().get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert attributes["FifoQueue"] == "true" and attributes["ContentBasedDeduplication"] == "false", name
