"""Fixtures for outbound webhooks: fast retry settings and a driver for the dispatch queue.

``QueueDriver`` plays Lambda's part: it pumps the events table's stream into
the real stream handler (which fans events out), receives from the moto
queue, builds the Lambda SQS event, calls the real Chalice handler from
``app.py``, deletes what succeeded and makes reported failures visible again.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from chalicelib.core import aws
from chalicelib.core.config import get_settings
from chalicelib.outbound import queue
from chalicelib.outbound.config import get_outbound_settings
from tests.support.streams import StreamPump
from tests.support.waiting import poll

FAST = {
    "WEBHOOK_RETRY_SCHEDULE": "0.01,0.01,0.01,0.01,0.01,0.01,0.01",
    "WEBHOOK_RETRY_JITTER": "0",
    "WEBHOOK_TIMEOUT_SECONDS": "0.5",
    "WEBHOOK_SUBSCRIPTION_CACHE_SECONDS": "0",
}


@pytest.fixture
def outbound_env(local_api: object) -> Iterator[Callable[..., None]]:
    """Apply outbound settings for one test; the defaults come back afterwards."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("WEBHOOK_")}

    def apply(**overrides: str) -> None:
        os.environ.update({**FAST, **overrides})
        get_outbound_settings.cache_clear()

    apply()
    yield apply
    for key in [k for k in os.environ if k.startswith("WEBHOOK_")]:
        del os.environ[key]
    os.environ.update(saved)
    get_outbound_settings.cache_clear()


@pytest.fixture
def deployed_policy() -> Iterator[None]:
    """The deployed stages' URL policy (https only, no loopback) for one test."""
    os.environ["ALLOW_INSECURE_URLS"] = "false"
    get_settings.cache_clear()
    yield
    os.environ["ALLOW_INSECURE_URLS"] = "true"
    get_settings.cache_clear()


def lambda_event(messages: list[dict[str, Any]], queue_name: str) -> dict[str, Any]:
    arn = f"arn:aws:sqs:{get_settings().region}:123456789012:{queue_name}"
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": arn,
                "awsRegion": get_settings().region,
            }
            for m in messages
        ]
    }


class QueueDriver:
    def __init__(self) -> None:
        from app import outbound_dispatch

        self.handler = outbound_dispatch
        self.stream = StreamPump()
        self.name = queue.dispatch_queue_name()
        self.url = queue.queue_url(self.name)
        self.invocations = 0
        self.reported_failures = 0

    def receive(self, queue_name: str | None = None, limit: int = 10) -> list[dict[str, Any]]:
        """Fan out what the events stream holds (Lambda's stream mapping), then receive."""
        self.stream.pump()
        response = aws.sqs().receive_message(
            QueueUrl=queue.queue_url(queue_name or self.name),
            MaxNumberOfMessages=limit,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return [dict(message) for message in response.get("Messages", [])]

    def invoke(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = self.handler(lambda_event(messages, self.name), None)
        self.invocations += 1
        failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        self.reported_failures += len(failed)
        for message in messages:
            if message["MessageId"] in failed:
                aws.sqs().change_message_visibility(
                    QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
            else:
                aws.sqs().delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
        return result

    def drain(self, until: Callable[[], bool] | None = None) -> None:
        """Invoke the handler until the queue stays empty (three empty receives in a row), or ``until`` holds."""
        idle = 0

        def settled() -> bool:
            nonlocal idle
            messages = self.receive()
            if messages:
                idle = 0
                self.invoke(messages)
                return False
            if until is not None:
                return until()
            idle += 1
            return idle >= 3

        poll(settled, "the dispatch queue to settle", interval=0.05)

    def dead_letters(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        while batch := self.receive(queue.dead_letter_queue_name()):
            found.extend(batch)
            for message in batch:
                aws.sqs().delete_message(
                    QueueUrl=queue.queue_url(queue.dead_letter_queue_name()), ReceiptHandle=message["ReceiptHandle"]
                )
        return found


@pytest.fixture
def driver(outbound_env: Callable[..., None]) -> QueueDriver:
    return QueueDriver()
