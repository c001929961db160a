"""The events stream's push: matching sockets get frames; a gone or failing socket costs nothing else."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.core import aws, faults
from chalicelib.events.emit import emit
from chalicelib.live import store
from tests.live.conftest import Live
from tests.outbound.conftest import QueueDriver, driver, outbound_env  # noqa: F401 (fixtures)
from tests.outbound.helpers import all_accepted, subscribe
from tests.support.api_client import ApiClient
from tests.support.receiver import serve_receiver
from tests.support.streams import StreamPump


def test_an_event_reaches_each_matching_socket_of_its_tenant(live: Live, tenant: str) -> None:
    pump = StreamPump()
    everything, narrow, other = live.open(tenant), live.open(tenant), live.open(f"{tenant}-other")
    everything.send({"action": "subscribe"})
    narrow.send({"action": "subscribe", "events": ["OrderPacked"]})
    other.send({"action": "subscribe"})
    shipped = emit(tenant, "OrderShipped", {"n": 1}, source="test")
    assert pump.pump() == 1
    [frame] = everything.peer.of_type("OrderShipped")
    assert frame == {
        "type": "OrderShipped",
        "id": shipped.event_id,
        "time": shipped.timestamp,
        "subscription": "default",
        "data": {"n": 1},
    }
    assert narrow.peer.of_type("OrderShipped") == [] and other.peer.of_type("OrderShipped") == []


def test_a_gone_socket_is_dropped_and_the_others_still_get_the_event(live: Live, tenant: str) -> None:
    pump = StreamPump()
    gone, alive = live.open(tenant), live.open(tenant)
    for socket in (gone, alive):
        socket.send({"action": "subscribe"})
    gone.peer.dead = True  # the client vanished without a close: the gateway answers 410
    emit(tenant, "OrderShipped", {"n": 1}, source="test")
    assert pump.pump() == 1
    assert store.TABLE.get(tenant, gone.connection_id) is None
    assert len(alive.peer.of_type("OrderShipped")) == 1


def test_each_webhook_attempt_is_a_delivery_attempt_frame(
    live: Live,
    client: ApiClient,
    driver: QueueDriver,  # noqa: F811
    outbound_env: Any,  # noqa: F811
    tenant: str,
) -> None:
    with serve_receiver() as receiver:
        subscription = subscribe(client, receiver, ["OrderShipped"])
        socket = live.open(tenant)
        socket.send({"action": "subscribe", "events": ["delivery.attempt"]})
        other = live.open(tenant)
        other.send({"action": "subscribe", "filters": {"subscriptionId": "sub-another"}})
        event = emit(tenant, "OrderShipped", {"n": 1}, source="test")
        driver.drain(until=all_accepted(receiver, {event.event_id}))
    [frame] = socket.peer.of_type("delivery.attempt")
    assert frame["id"] == event.event_id and frame["subscription"] == "default"
    data = frame["data"]
    assert (data["subscriptionId"], data["eventType"], data["attempt"], data["status"], data["statusCode"]) == (
        subscription["subscriptionId"],
        "OrderShipped",
        1,
        "Succeeded",
        200,
    )
    assert "responseBody" not in data  # the receiver's answer stays in the attempts log
    assert other.peer.of_type("delivery.attempt") == []


@pytest.fixture
def push_faults(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every PostToConnection fails (AWS_FAULTS), without botocore's back-off pauses."""
    monkeypatch.setattr("botocore.retries.standard.ExponentialBackoff.delay_amount", lambda *_: 0)
    monkeypatch.setenv(faults.SPEC_VARIABLE, "apigatewaymanagementapi=1")
    monkeypatch.setenv(faults.SEED_VARIABLE, "1")
    aws.reset_clients()
    yield
    monkeypatch.undo()
    aws.reset_clients()


def test_a_failing_push_holds_up_no_delivery(
    live: Live,
    client: ApiClient,
    driver: QueueDriver,  # noqa: F811
    outbound_env: Any,  # noqa: F811
    tenant: str,
    push_faults: None,
) -> None:
    socket = live.open(tenant)
    socket.peer.frames.clear()
    aws.dynamodb().update_item(  # subscribed directly: the reply to a subscribe frame would fail too
        TableName=store.TABLE.name,
        Key=store.TABLE.key(tenant, socket.connection_id),
        UpdateExpression="SET subscriptions = :s",
        ExpressionAttributeValues={":s": {"L": [{"M": {"id": {"S": "default"}}}]}},
    )
    store.forget()
    with serve_receiver() as receiver:
        subscribe(client, receiver, ["OrderShipped"])
        event = emit(tenant, "OrderShipped", {"n": 1}, source="test")
        driver.drain(until=all_accepted(receiver, {event.event_id}))
        assert driver.stream.invocations >= 1 and driver.reported_failures == 0
    assert socket.peer.frames == []  # every push attempt failed, and the webhook went out all the same
    assert store.TABLE.get(tenant, socket.connection_id) is not None  # a failure is not a 410: the socket stays


def test_with_no_socket_open_the_stream_reads_the_connections_table_once(live: Live, tenant: str) -> None:
    """Many events of a tenant with no socket: one small Query (cached for the container), no post."""
    pump = StreamPump()
    queried: list[str] = []
    client = aws.dynamodb()

    def count(params: dict[str, Any], **_: Any) -> None:
        if params.get("TableName") == store.TABLE.name:
            queried.append(params["TableName"])

    client.meta.events.register("provide-client-params.dynamodb.Query", count)
    try:
        for n in range(20):
            emit(tenant, "OrderShipped", {"n": n}, source="test")
        assert pump.pump() == 20
    finally:
        client.meta.events.unregister("provide-client-params.dynamodb.Query", count)
    assert len(queried) == 1


def test_without_an_endpoint_nothing_is_read(live: Live, tenant: str) -> None:
    del os.environ["LIVE_ENDPOINT_URL"]
    try:
        from chalicelib.live.push import push_event

        assert push_event(emit(tenant, "OrderShipped", {}, source="test")) == 0
    finally:
        os.environ["LIVE_ENDPOINT_URL"] = "http://127.0.0.1:1"
