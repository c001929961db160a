"""Every AWS call the platform's clients make inside a block, in order, with the request body as sent.

It hooks the shared clients of ``chalicelib.core.aws`` (the ones the code under test uses), so
a test can say what a request costs in AWS calls, not only what it answers.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from chalicelib.core import aws

SERVICES = ("dynamodb", "sqs", "secretsmanager", "events", "scheduler")


@dataclass(frozen=True)
class AwsCall:
    operation: str  # ``dynamodb.UpdateItem``
    body: bytes


@contextmanager
def aws_calls() -> Iterator[list[AwsCall]]:
    seen: list[AwsCall] = []

    def count(event_name: str, params: dict[str, Any], **_: Any) -> None:
        body = params.get("body", b"")
        seen.append(
            AwsCall(".".join(event_name.split(".")[1:3]), body if isinstance(body, bytes) else str(body).encode())
        )

    clients = [getattr(aws, service)() for service in SERVICES]
    for client, service in zip(clients, SERVICES, strict=True):
        client.meta.events.register(f"before-call.{service}", count, unique_id="aws-calls-count")
    try:
        yield seen
    finally:
        for client, service in zip(clients, SERVICES, strict=True):
            client.meta.events.unregister(f"before-call.{service}", unique_id="aws-calls-count")
