"""The data the browser tests look at, made through the public API of the running local runtime.

One thing is not: an inbound delivery in the dead-letter state. The local
stream fans every event out at once, so the scenario plays Lambda giving the
delivery's stream batch up (``tests.support.given_up``), whose real failure
consumer marks it ``Failed``.
"""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

import boto3

from tests.e2e.conftest import LocalRuntime
from tests.inbound import signers
from tests.support.given_up import give_up
from tests.support.receiver import Receiver
from tests.support.waiting import poll

VENDOR_TOKEN = "ghp_console"
PREFIX = "integration-platform-dev"


@dataclass
class Scenario:
    runtime: LocalRuntime
    tenant: str
    token: str
    receiver: Receiver
    ids: dict[str, str] = field(default_factory=dict)
    connection: dict[str, Any] = field(default_factory=dict)  # as created, with its webhookSecret

    def call(self, method: str, path: str, body: Any = None, expect: int | tuple[int, ...] = (200, 201, 202)) -> Any:
        reply = self.runtime.request(method, path, json_body=body, token=self.token)
        statuses = (expect,) if isinstance(expect, int) else expect
        assert reply.status in statuses, f"{method} {path}: {reply.status} {reply.body!r}"
        return reply.json if reply.body else None

    def get(self, path: str) -> Any:
        return self.call("GET", path)


def _aws(runtime: LocalRuntime, service: str) -> Any:
    make: Any = boto3.client  # one helper for two services; the stubs type each name separately
    return make(
        service,
        endpoint_url=runtime.moto_url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def inbound_delivery(s: Scenario, connection: dict[str, Any], number: int) -> str:
    body = json.dumps({"action": "opened", "number": number, "title": "<b>not markup</b>"}).encode()
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "pull_request",
        "X-GitHub-Delivery": str(uuid.uuid4()),
        **signers.github(connection["webhookSecret"], body),
    }
    reply = s.runtime.send("POST", f"/webhooks/deliveries/{connection['connectionId']}", body, headers)
    assert reply.status == 202, reply.body
    delivery_id = str(reply.json["deliveryId"])
    poll(lambda: s.get(f"/webhooks/deliveries/{delivery_id}")["status"] == "Processed", "delivery processed")
    return delivery_id


def dead_letter(s: Scenario, delivery_id: str) -> None:
    """Give up the events stream batch that held the delivery's event, as Lambda does after its retries: the
    failure consumer marks the delivery Failed."""
    event_id = s.get(f"/webhooks/deliveries/{delivery_id}")["eventId"]
    give_up(lambda service: _aws(s.runtime, service), PREFIX, s.tenant, event_id)
    poll(lambda: s.get(f"/webhooks/deliveries/{delivery_id}")["status"] == "Failed", "delivery dead-lettered")


def build(runtime: LocalRuntime, vendor_url: str, receiver: Receiver) -> Scenario:
    tenant = f"console-{secrets.token_hex(4)}"
    s = Scenario(runtime, tenant, runtime.token(tenant), receiver)
    connection = s.call(
        "POST",
        "/integrations/connections",
        {
            "providerId": "prov-github",
            "displayName": "Repo <hooks> & co",
            "credentials": {"token": VENDOR_TOKEN},
            "configuration": {"baseUrl": vendor_url},
        },
    )
    cid = s.ids["connectionId"] = connection["connectionId"]
    s.connection = connection
    s.call("POST", f"/integrations/connections/{cid}/health/check")
    parameters = {"parameters": {"owner": "octo", "repo": "hello"}}
    run = s.call("POST", f"/integrations/connections/{cid}/operations/GetRepository", parameters)
    s.ids["runId"] = run["runId"]
    poll(lambda: s.get(f"/integrations/runs/{run['runId']}")["status"] == "Completed", "run completed")
    subscription = s.call("POST", "/webhooks/subscriptions", {"endpointUrl": receiver.url, "eventTypes": ["*"]})
    s.ids["subscriptionId"] = subscription["subscriptionId"]
    receiver.trust(subscription["signingSecret"])
    s.ids["deliveryId"] = inbound_delivery(s, connection, 1)
    s.ids["failedDeliveryId"] = inbound_delivery(s, connection, 2)
    dead_letter(s, s.ids["failedDeliveryId"])
    s.ids["eventId"] = s.call("POST", "/events", {"type": "InvoicePaid", "data": {"amount": 5}})["eventId"]
    poll(lambda: attempts_of(s, s.ids["eventId"]), "the event delivered")
    return s


def attempts_of(s: Scenario, event_id: str) -> list[dict[str, Any]]:
    items = s.get(f"/webhooks/subscriptions/{s.ids['subscriptionId']}/attempts?limit=100")["items"]
    return [a for a in items if a["eventId"] == event_id]


def live_sockets(s: Scenario) -> list[str]:
    """The connection ids of the tenant's open live sockets (the console's), from the connections table."""
    found = _aws(s.runtime, "dynamodb").query(
        TableName=f"{PREFIX}-live-connections",
        KeyConditionExpression="tenantId = :t",
        ExpressionAttributeValues={":t": {"S": s.tenant}},
        ConsistentRead=True,
    )
    return [item["connectionId"]["S"] for item in found.get("Items", [])]
