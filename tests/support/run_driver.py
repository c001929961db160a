"""Driving runs in-process: connections to the fake vendor, and the runs queue as Lambda sees it.

``deliver`` receives real messages from the moto queue, hands them to the SQS
handler registered in ``app.py`` as a Lambda-shaped event, and deletes the ones
the handler did not report failed, as the event source mapping does.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from chalicelib.core import aws
from chalicelib.core.config import get_settings
from chalicelib.providers.catalog import BUILTIN_PROVIDERS
from chalicelib.providers.models import stores_credential
from infra.local.sqs_poller import failed_ids, lambda_record
from tests.support.api_client import ApiClient
from tests.support.waiting import poll

if TYPE_CHECKING:
    from mypy_boto3_sqs.type_defs import MessageTypeDef

Handler = Callable[[dict[str, Any], Any], Any]


def queue_url(name: str) -> str:
    return aws.sqs().get_queue_url(QueueName=name)["QueueUrl"]


def runs_queue() -> str:
    return queue_url(get_settings().queue_name("runs"))


def runs_dlq() -> str:
    return queue_url(get_settings().dead_letter_queue_name("runs"))


def receive(url: str, tenant: str, visibility: int | None = None, wait: int = 0) -> list[MessageTypeDef]:
    """This tenant's visible messages. Tests share the queue one after another, so any other tenant's
    message is a leftover of an earlier test and is deleted rather than handed to the worker."""
    params: dict[str, Any] = {
        "QueueUrl": url,
        "MaxNumberOfMessages": 10,
        "AttributeNames": ["All"],
        "WaitTimeSeconds": wait,
    }
    if visibility is not None:
        params["VisibilityTimeout"] = visibility
    mine: list[MessageTypeDef] = []
    while True:
        page = aws.sqs().receive_message(**params).get("Messages", [])
        for message in page:
            if json.loads(message["Body"]).get("tenantId") == tenant:
                mine.append(message)
            else:
                aws.sqs().delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        if not page or mine:
            return mine
        params["WaitTimeSeconds"] = 0


def invoke(handler: Handler, url: str, messages: list[MessageTypeDef]) -> set[str]:
    """Call the handler with these messages; delete what succeeded; return the failed message ids."""
    arn = aws.sqs().get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    event = {"Records": [lambda_record(m, arn, get_settings().region) for m in messages]}
    failed = failed_ids(handler(event, None), [m["MessageId"] for m in messages])
    for message in messages:
        if message["MessageId"] not in failed:
            aws.sqs().delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return failed


def deliver(handler: Handler, url: str, tenant: str, wait: int = 0) -> tuple[list[MessageTypeDef], set[str]]:
    messages = receive(url, tenant, wait=wait)
    if not messages:
        return [], set()
    return messages, invoke(handler, url, messages)


def deliver_when_shown(handler: Handler, url: str, tenant: str, what: str) -> tuple[list[MessageTypeDef], set[str]]:
    """``deliver`` the tenant's next message once it shows: a retry, a redelivery or a token wait hides it a while."""
    delivered: tuple[list[MessageTypeDef], set[str]] = poll(
        lambda: (found := deliver(handler, url, tenant))[0] and found, what, interval=0.1
    )
    return delivered


@contextmanager
def settings(**env: str) -> Iterator[None]:
    """Run with other RUN_* / VENDOR_* settings; settings are read once per process, as in Lambda."""
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    get_settings.cache_clear()
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()


def connect(
    client: ApiClient,
    base_url: str,
    *,
    provider_id: str = "prov-generic-http",
    credentials: dict[str, Any] | None = None,
    auth_mode: str | None = None,
    configuration: dict[str, Any] | None = None,
) -> str:
    """A connection to ``base_url``; ``credentials`` default to a bearer token, and to none for ``AwsIam``."""
    body: dict[str, Any] = {
        "providerId": provider_id,
        "displayName": "fake vendor",
        "configuration": {"baseUrl": base_url, **(configuration or {})},
    }
    builtin = BUILTIN_PROVIDERS.get(provider_id)
    if builtin is None or stores_credential(builtin.auth_model) or credentials is not None:
        body["credentials"] = credentials or {"token": "vendor-token-1"}
    if auth_mode:
        body["authMode"] = auth_mode
    reply = client.post("/integrations/connections", body)
    assert reply.status == 201, reply.body
    return str(reply.json["connectionId"])


def start(
    client: ApiClient, connection_id: str, operation: str, parameters: dict[str, Any], key: str | None = None
) -> dict[str, Any]:
    headers = {"Idempotency-Key": key} if key else None
    reply = client.post(
        f"/integrations/connections/{connection_id}/operations/{operation}", {"parameters": parameters}, headers=headers
    )
    assert reply.status == 202, reply.body
    return dict(reply.json)
