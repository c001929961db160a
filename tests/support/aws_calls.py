"""Every AWS call the platform's clients make inside a block, in order, with the request body as sent;
and a table that refuses calls, as a throttled or failing DynamoDB does.

Both hook the shared clients of ``chalicelib.core.aws`` (the ones the code under test uses), so
a test can say what a request costs in AWS calls, not only what it answers.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

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


@contextmanager
def refusing(
    table: str, *, operations: frozenset[str] | None = None, code: str = "InternalServerError"
) -> Iterator[list[str]]:
    """Every DynamoDB call on ``table`` (a transaction touching it too; only ``operations`` when given) fails
    with ``code``, as a throttled or failing DynamoDB answers; lists the refused operations."""
    refused: list[str] = []

    def refuse(params: dict[str, Any], model: Any, **_: Any) -> None:
        names = {params.get("TableName")} | {
            step.get("TableName") for entry in params.get("TransactItems", []) for step in entry.values()
        }
        if table in names and (operations is None or model.name in operations):
            refused.append(model.name)
            raise ClientError({"Error": {"Code": code, "Message": "injected"}}, model.name)

    hooks = aws.dynamodb().meta.events
    hooks.register("before-parameter-build.dynamodb", refuse, unique_id=f"refusing-{table}")
    try:
        yield refused
    finally:
        hooks.unregister("before-parameter-build.dynamodb", unique_id=f"refusing-{table}")
