"""Every AWS call the platform's clients make inside a block, in order, with the request body as sent;
and a table that refuses calls, as a throttled or failing DynamoDB does.

Both hook the shared clients of ``chalicelib.core.aws`` (the ones the code under test uses), so
a test can say what a request costs in AWS calls, not only what it answers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
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
    """Each call is named ``<factory>.<Operation>`` after the ``chalicelib.core.aws`` factory that made its client
    (``secretsmanager.GetSecretValue``, ``events.PutEvents``). The hook is registered under the client's own event
    name (its hyphenated service id: ``secrets-manager``, ``eventbridge``), not the factory's, so that the count
    never rests on botocore's alias table; the name is not taken from the event, whose service part is that id."""
    seen: list[AwsCall] = []

    def counter(service: str) -> Callable[..., None]:
        def count(params: dict[str, Any], model: Any, **_: Any) -> None:
            body = params.get("body", b"")
            seen.append(AwsCall(f"{service}.{model.name}", body if isinstance(body, bytes) else str(body).encode()))

        return count

    clients = {service: getattr(aws, service)() for service in SERVICES}
    hooks = [
        (client.meta.events, f"before-call.{client.meta.service_model.service_id.hyphenize()}", counter(service))
        for service, client in clients.items()
    ]
    for events, event_name, count in hooks:
        events.register(event_name, count, unique_id="aws-calls-count")
    try:
        yield seen
    finally:
        for events, event_name, _ in hooks:
            events.unregister(event_name, unique_id="aws-calls-count")


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
