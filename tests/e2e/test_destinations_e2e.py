"""Over the local runtime: each destination type, read back with plain boto3 as the tenant's consumer would.

One runtime of this module's own, with fast retries and a one-second disable window, serves every type. Per
type: what arrives is the webhook body with the event's id, type and time beside it; a content filter and a
transform apply; ordering keeps a FIFO group or a Kinesis partition key per ordering key; access that is not
granted, or granted to another tenant, is a 422 at creation; and a destination taken away later fails its writes
(health: ``failingSince``), disables the subscription with ``WebhookSubscriptionDisabled``, leaves the delivery in
the dead letters, and the operator's redrive delivers it once the tenant has made it again.
"""

from __future__ import annotations

import secrets
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import PROJECT_DIR, LocalRuntime, start_runtime
from tests.support.destinations import TYPES, Arrival, Clients, TenantResource, runtime_role
from tests.support.waiting import WAIT_SECONDS, poll


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRuntime]:
    started = start_runtime(
        tmp_path_factory.mktemp("destinations"),
        WEBHOOK_RETRY_SCHEDULE="1,1,1,1",
        WEBHOOK_RETRY_JITTER="0",
        WEBHOOK_DISABLE_AFTER_SECONDS="1",
        WEBHOOK_SUBSCRIPTION_CACHE_SECONDS="0",
    )
    yield started
    started.stop()


class Tenant:
    """One tenant of the platform, with its token, calling the API of ``runtime``."""

    def __init__(self, runtime: LocalRuntime) -> None:
        self.runtime = runtime
        self.id = f"tenant-{secrets.token_hex(4)}"
        self.token = runtime.token(self.id)
        self.clients = Clients(runtime.moto_url)

    def resource(self, kind: str, **options: Any) -> TenantResource:
        return TenantResource(kind, self.id, self.clients, runtime_role(self.runtime.env), **options)

    def call(self, method: str, path: str, body: Any = None) -> Any:
        return self.runtime.request(method, path, token=self.token, json_body=body)

    def subscribe(self, destination: dict[str, str], types: list[str], **fields: Any) -> dict[str, Any]:
        reply = self.call(
            "POST", "/webhooks/subscriptions", {"eventTypes": types, "destination": destination, **fields}
        )
        assert reply.status == 201, reply.body
        assert reply.json["destination"] == destination and reply.json.get("endpointUrl") is None
        result: dict[str, Any] = reply.json
        return result

    def publish(self, event_type: str, data: dict[str, Any]) -> dict[str, Any]:
        reply = self.call("POST", "/events", {"type": event_type, "data": data})
        assert reply.status in (200, 201), reply.body
        result: dict[str, Any] = reply.json
        return result

    def subscription(self, subscription_id: str) -> dict[str, Any]:
        reply = self.call("GET", f"/webhooks/subscriptions/{subscription_id}")
        assert reply.status == 200, reply.body
        result: dict[str, Any] = reply.json
        return result


def collect(resource: TenantResource, count: int, runtime: LocalRuntime) -> list[Arrival]:
    """The first ``count`` arrivals (waiting for them), then a moment's more reading finds no extra one."""
    found: list[Arrival] = []

    def enough() -> bool:
        found.extend(resource.arrivals())
        return len(found) >= count

    poll(enough, f"{count} arrivals at the tenant's {resource.kind}", explain=runtime.output_tail)
    found.extend(resource.arrivals())
    return found


@pytest.mark.parametrize("kind", TYPES)
def test_delivery_with_a_filter_and_a_transform(runtime: LocalRuntime, kind: str) -> None:
    tenant = Tenant(runtime)
    resource = tenant.resource(kind)
    tenant.subscribe(resource.destination, ["Order.Placed"])
    tenant.subscribe(
        resource.destination,
        ["Order.Shipped"],
        filter={"data": {"region": ["eu"]}},
        transform="{orderId: data.order.id, kind: type}",
    )
    placed = tenant.publish("Order.Placed", {"order": {"id": "o-1", "total": 12.5}})
    tenant.publish("Order.Shipped", {"region": "us", "order": {"id": "o-2"}})  # filtered out
    tenant.publish("Order.Shipped", {"region": "eu", "order": {"id": "o-3"}})
    arrived = collect(resource, 2, runtime)
    assert len(arrived) == 2, arrived
    [plain] = [a for a in arrived if a.body.get("id") == placed["eventId"]]
    assert plain.body == {
        "id": placed["eventId"],
        "type": "Order.Placed",
        "timestamp": placed["timestamp"],
        "data": {"order": {"id": "o-1", "total": 12.5}},
    }
    if kind in ("sqs", "sns"):
        assert plain.attributes["eventId"] == placed["eventId"]
        assert plain.attributes["eventType"] == "Order.Placed"
        assert plain.attributes["timestamp"] == placed["timestamp"]
    elif kind == "eventbridge":
        assert plain.attributes["detail-type"] == "Order.Placed"
    [shaped] = [a for a in arrived if a is not plain]
    assert shaped.body == {"orderId": "o-3", "kind": "Order.Shipped"}


@pytest.mark.parametrize("kind", ["sqs", "sns", "kinesis"])
def test_ordered_delivery_keeps_each_keys_order_in_its_group(runtime: LocalRuntime, kind: str) -> None:
    tenant = Tenant(runtime)
    resource = tenant.resource(kind, fifo=kind != "kinesis")
    tenant.subscribe(resource.destination, ["Ledger.*"], delivery="ordered", orderingKey="data.account")
    sent: dict[str, list[int]] = {"acct-a": [], "acct-b": []}
    for n in range(8):
        account = "acct-a" if n % 3 else "acct-b"
        tenant.publish("Ledger.Entry", {"account": account, "n": n})
        sent[account].append(n)
    arrived = collect(resource, 8, runtime)
    seen: dict[str, list[int]] = {}
    for arrival in arrived:
        account = arrival.body["data"]["account"]
        assert arrival.group == account  # the FIFO group or the partition key is the ordering key's value
        seen.setdefault(account, []).append(arrival.body["data"]["n"])
    assert seen == sent


@pytest.mark.parametrize("kind", TYPES)
def test_access_not_granted_or_granted_to_another_tenant_is_a_422(runtime: LocalRuntime, kind: str) -> None:
    tenant, other = Tenant(runtime), Tenant(runtime)
    ungranted = tenant.resource(kind, granted=False)
    reply = tenant.call("POST", "/webhooks/subscriptions", {"eventTypes": ["*"], "destination": ungranted.destination})
    assert reply.status == 422, reply.body
    assert {"sqs": "sqs:SendMessage", "sns": "sns:Publish", "eventbridge": "events:PutEvents"}.get(
        kind, "kinesis:PutRecord"
    ) in reply.body.decode()
    granted = tenant.resource(kind)
    foreign = other.call("POST", "/webhooks/subscriptions", {"eventTypes": ["*"], "destination": granted.destination})
    assert foreign.status == 422, foreign.body
    assert other.call("GET", "/webhooks/subscriptions").json["items"] == []


@pytest.mark.parametrize("kind", TYPES)
def test_a_destination_taken_away_fails_disables_dead_letters_and_is_redriven(runtime: LocalRuntime, kind: str) -> None:
    tenant = Tenant(runtime)
    resource = tenant.resource(kind)
    sub = tenant.subscribe(resource.destination, ["Invoice.*"])
    path = f"/webhooks/subscriptions/{sub['subscriptionId']}"
    resource.remove()
    event = tenant.publish("Invoice.Paid", {"invoice": "in-1"})

    def disabled() -> bool:
        return bool(tenant.subscription(sub["subscriptionId"])["status"] == "Disabled")

    poll(disabled, "the subscription disabled after its writes failed", explain=runtime.output_tail)
    read = tenant.subscription(sub["subscriptionId"])
    assert read["failingSince"] and "failed since" in read["disabledReason"]
    poll(
        lambda: tenant.call("GET", f"/events/{event['eventId']}").json["deliveries"][0]["status"] == "Failed",
        "the delivery failed for good",
    )
    [attempt, *_] = tenant.call("GET", path + "/attempts").json["items"]
    assert attempt["error"] and attempt["status"] == "Failed", attempt
    recorded = tenant.call("GET", "/events?since=2000-01-01T00:00:00Z").json["items"]
    announced = [e["data"] for e in recorded if e["type"] == "WebhookSubscriptionDisabled"]
    assert [(e["subscriptionId"], e["destination"]) for e in announced] == [
        (sub["subscriptionId"], resource.destination)
    ]
    resource.restore()  # the tenant fixes it, turns the subscription back on and has the dead letters redriven
    assert tenant.call("PATCH", path, {"active": True}).status == 200
    redrive(runtime)
    arrived = collect(resource, 1, runtime)
    assert [a.body["id"] for a in arrived] == [event["eventId"]]
    poll(
        lambda: tenant.call("GET", f"/events/{event['eventId']}").json["deliveries"][0]["status"] == "Succeeded",
        "the redriven delivery recorded",
    )
    assert "failingSince" not in tenant.subscription(sub["subscriptionId"])


def redrive(runtime: LocalRuntime) -> None:
    """The operator's command (docs/operations.md), moving every dead letter back to the dispatch queue."""
    env = {name: value for name, value in runtime.env.items() if name != "RESOURCE_PREFIX"}
    env |= {"AWS_ENDPOINT_URL": runtime.moto_url, "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
    done = subprocess.run(
        [sys.executable, "-m", "infra.ops.redrive", "outbound-dispatch"],
        cwd=PROJECT_DIR,
        env={**env, "STAGE": "dev"},
        capture_output=True,
        text=True,
        timeout=WAIT_SECONDS,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("moved "), done.stdout
