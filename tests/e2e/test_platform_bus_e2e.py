"""Over the local runtime: the platform's bus carries a tenant's events only once it subscribes with an
``eventbridge`` destination naming the bus (``GET /events/bus``), written by the dispatcher with its own role.

What arrived is read as an AWS user of the platform's account would: a rule on the bus for this tenant's
platform events, its target a queue, read with plain boto3.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import LocalRuntime
from tests.support.destinations import Clients
from tests.support.waiting import poll


class Tap:
    """A rule on the platform bus matching some tenants' platform events, into a queue of its own."""

    def __init__(self, clients: Clients, bus: str, tenants: list[str]) -> None:
        self.sqs, self.bridge, self.bus = clients("sqs"), clients("events"), bus
        self.name = f"tap-{secrets.token_hex(4)}"
        self.url = self.sqs.create_queue(QueueName=self.name)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        pattern = {"source": ["integration-platform"], "detail": {"tenantId": tenants}}
        self.bridge.put_rule(Name=self.name, EventBusName=bus, EventPattern=json.dumps(pattern))
        self.bridge.put_targets(Rule=self.name, EventBusName=bus, Targets=[{"Id": "tap", "Arn": arn}])

    def read(self) -> list[dict[str, Any]]:
        found = []
        while messages := self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get("Messages", []):
            for message in messages:
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
                found.append(json.loads(message["Body"]))
        return found

    def remove(self) -> None:
        self.bridge.remove_targets(Rule=self.name, EventBusName=self.bus, Ids=["tap"])
        self.bridge.delete_rule(Name=self.name, EventBusName=self.bus)
        self.sqs.delete_queue(QueueUrl=self.url)


@pytest.fixture
def tenants() -> list[str]:
    return [f"tenant-{secrets.token_hex(4)}" for _ in range(2)]


@pytest.fixture
def tap(local_runtime: LocalRuntime, tenants: list[str]) -> Iterator[Tap]:
    bus = local_runtime.request("GET", "/events/bus", token=local_runtime.token(tenants[0])).json["eventBusName"]
    made = Tap(Clients(local_runtime.moto_url), bus, tenants)
    yield made
    made.remove()


def test_events_reach_the_platform_bus_only_through_an_eventbridge_destination(
    local_runtime: LocalRuntime, tenants: list[str], tap: Tap
) -> None:
    tenant, other = tenants

    def call(method: str, path: str, body: Any = None, who: str = tenant) -> Any:
        reply = local_runtime.request(method, path, token=local_runtime.token(who), json_body=body)
        assert reply.status in (200, 201), reply.body
        return reply.json

    # The other tenant asked for nothing: its event, recorded first, never reaches the bus.
    call("POST", "/events", {"type": "Order.Shipped", "data": {"order": 1}}, who=other)
    bus = call("GET", "/events/bus")
    subscription = call(
        "POST",
        "/webhooks/subscriptions",
        {"eventTypes": ["Order.Shipped"], "destination": {"type": "eventbridge", "eventBusArn": bus["eventBusArn"]}},
    )
    call("POST", "/events", {"type": "Order.Placed", "data": {"order": 2}})  # not a type the subscription takes
    shipped = call("POST", "/events", {"type": "Order.Shipped", "data": {"order": 3}})

    arrived: list[dict[str, Any]] = []

    def some() -> bool:
        arrived.extend(tap.read())
        return bool(arrived)

    poll(some, "the entry on the bus", explain=local_runtime.output_tail)
    poll(
        lambda: call("GET", f"/webhooks/subscriptions/{subscription['subscriptionId']}/attempts")["items"],
        "the attempt logged",
    )
    arrived.extend(tap.read())
    [entry] = arrived
    assert (entry["source"], entry["detail-type"]) == ("integration-platform", "Order.Shipped")
    assert entry["detail"] == {
        "id": shipped["eventId"],
        "type": "Order.Shipped",
        "timestamp": shipped["timestamp"],
        "data": {"order": 3},
        "tenantId": tenant,
    }
