"""Inbound fixtures: connections with webhook secrets, unsigned senders, and the real SQS consumer.

``drain`` plays Lambda's SQS event source: it receives what is actually on the
moto queue, builds a Lambda-shaped event with the real message ids, calls the
handler the app registered for the queue, and deletes what the partial-batch
response does not name as failed.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.api_client import ApiClient, Reply

CREDENTIALS = {"ApiKey": {"apiKey": "k-123"}, "Basic": {"username": "u", "password": "p"}}


@dataclass
class Hook:
    connection_id: str
    secret: str
    created: dict[str, Any]


def post_delivery(
    client: ApiClient, connection_id: str, body: bytes, headers: dict[str, str], content_type: str = "application/json"
) -> Reply:
    """A vendor's POST: no bearer token, the body bytes exactly as given."""
    return client.request(
        "POST",
        f"/webhooks/deliveries/{connection_id}",
        body=body,
        headers={"Content-Type": content_type, **headers},
        token="",
    )


@pytest.fixture
def connect(client: ApiClient) -> Callable[..., Hook]:
    def make(provider_id: str = "prov-github", **extra: Any) -> Hook:
        provider = client.get(f"/integrations/providers/{provider_id}").json
        body = {"providerId": provider_id, "displayName": "inbound", **extra}
        if provider["authModel"] != "AwsIam":  # the platform's role: nothing to give
            body["credentials"] = CREDENTIALS.get(provider["authModel"], {"token": "vendor-token"})
        created = client.post("/integrations/connections", body)
        assert created.status == 201, created.body
        secret = created.json.get("webhookSecret") or extra.get("webhookSecret") or ""
        return Hook(created.json["connectionId"], secret, created.json)

    return make


def _record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {},
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": "us-east-1",
    }


class LambdaContext:
    function_name = "integration-platform-dev-inbound_events"
    aws_request_id = "local"


def registered_handler(queue: str) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    module = importlib.import_module("app")
    config = next(source for source in module.app.event_sources if getattr(source, "queue", None) == queue)
    handler: Callable[[dict[str, Any], Any], dict[str, Any]] = getattr(module, config.handler_string.split(".")[-1])
    return handler


@pytest.fixture
def drain(local_api: object) -> Callable[[], list[dict[str, Any]]]:
    from chalicelib.core import aws
    from chalicelib.core.config import get_settings

    queue = get_settings().queue_name("inbound-events")
    sqs = aws.sqs()
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    handler = registered_handler(queue)

    def run(extra_records: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
        responses: list[dict[str, Any]] = []
        pending = list(extra_records or [])
        while True:
            received = sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30, AttributeNames=["All"]
            ).get("Messages", [])
            records = [_record(dict(m), arn) for m in received] + pending
            pending = []
            if not records:
                return responses
            response = handler({"Records": records}, LambdaContext())
            responses.append(response)
            failed = {item["itemIdentifier"] for item in response["batchItemFailures"]}
            # Lambda deletes the successes; a failure would come back after its visibility timeout,
            # which the tests read from the response instead of waiting for, so it is dropped too.
            assert failed <= {r["messageId"] for r in records}
            for message in received:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    return run


def events_of(tenant: str) -> list[dict[str, Any]]:
    """The tenant's events recorded from inbound deliveries, as the API reads them (``data`` decompressed)."""
    from chalicelib.events import store

    items = [i for i in store.TABLE.query(tenant, limit=100, cursor=None).items if i["source"].startswith("inbound")]
    return [store.get(tenant, item["eventId"]).model_dump(by_alias=True) for item in items]  # type: ignore[union-attr]


def json_bytes(document: Any) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()
