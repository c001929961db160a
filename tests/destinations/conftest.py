"""A tenant's own AWS resources on the suite's moto, read back as the tenant's consumer would: plain boto3."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from chalicelib.core import aws as clients
from chalicelib.core import faults
from chalicelib.destinations.base import Envelope


@dataclass(frozen=True)
class Queue:
    url: str
    arn: str

    def receive(self, wait: int = 0) -> list[dict[str, Any]]:
        """What a consumer receives (everything, with attributes and FIFO system attributes)."""
        answer: Any = boto3.client("sqs").receive_message(
            QueueUrl=self.url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=wait,
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
        )
        return list(answer.get("Messages", []))


@pytest.fixture
def name() -> str:
    return f"dest-{secrets.token_hex(4)}"


@pytest.fixture
def make_queue(aws: None, name: str) -> Callable[..., Queue]:
    def make(suffix: str = "", *, fifo: bool = False, policy: dict[str, Any] | None = None) -> Queue:
        attributes: Any = {"FifoQueue": "true"} if fifo else {}
        if policy is not None:
            attributes["Policy"] = json.dumps(policy)
        queue_name = f"{name}{suffix}" + (".fifo" if fifo else "")
        url = boto3.client("sqs").create_queue(QueueName=queue_name, Attributes=attributes)["QueueUrl"]
        arn = boto3.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        return Queue(url, arn["Attributes"]["QueueArn"])

    return make


@pytest.fixture
def envelope(tenant: str) -> Envelope:
    return Envelope(
        tenant_id=tenant,
        subscription_id="sub-1",
        event_id=f"evt-{secrets.token_hex(6)}",
        event_type="order.created",
        timestamp="2026-12-07T06:00:00.000Z",
        body=b'{"id":"evt-1","type":"order.created","data":{"total":1.10,"big":123456789012345678901234567890}}',
        ordering_value=None,
        deduplication_id="dlv-1",
    )


@pytest.fixture
def faulty(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """``AWS_FAULTS`` for the next clients (tenant ones included); botocore's back-off skipped to stay fast."""
    request.getfixturevalue("aws")
    monkeypatch.setattr("botocore.retries.standard.ExponentialBackoff.delay_amount", lambda *_: 0)

    def switch(spec: str) -> None:
        monkeypatch.setenv(faults.SPEC_VARIABLE, spec)
        monkeypatch.setenv(faults.SEED_VARIABLE, "7")
        clients.reset_clients()

    yield switch
    monkeypatch.undo()
    clients.reset_clients()
