"""The three routes: who may connect, what each frame answers, the limits and the closes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.core import aws
from chalicelib.core.config import get_settings
from chalicelib.live import frames, store
from tests.live.conftest import Live
from tests.support.api_client import ApiClient


def stored(tenant: str, connection_id: str) -> dict[str, Any] | None:
    return store.TABLE.get(tenant, connection_id)


def test_a_socket_is_stored_under_its_tenant_and_forgotten_on_disconnect(live: Live, tenant: str) -> None:
    socket = live.open(tenant)
    item = stored(tenant, socket.connection_id)
    assert item is not None and item["subscriptions"] == [] and item["subject"] == "dev-user"
    assert int(item["tokenExpiresAt"]) >= int(item["expiresAt"])  # TTL: the token's end, or API Gateway's 2 h
    assert store.tenant_of(socket.connection_id) == tenant
    live.gateway.disconnect(socket.connection_id, 1000, "")
    assert stored(tenant, socket.connection_id) is None


@pytest.mark.parametrize("how", ["header", "query"])
def test_an_api_key_opens_a_socket(live: Live, client: ApiClient, tenant: str, how: str) -> None:
    created = client.post("/auth/api-keys", {"name": "live", "scopes": ["events.read"]})
    assert created.status == 201, created.body
    key = created.json["apiKey"]
    socket = live.open(tenant, **({"headers": {"X-API-Key": key}} if how == "header" else {"query": {"token": key}}))
    assert stored(tenant, socket.connection_id) is not None


def test_connect_refusals(live: Live, tenant: str, capsys: pytest.CaptureFixture[str]) -> None:
    token = live.issuer.token(tenant)
    cases = [
        ({}, {}, 401),
        ({"Authorization": "Bearer nonsense"}, {}, 401),
        ({"Authorization": f"Bearer {token}"}, {"token": token}, 401),  # two credentials
        ({}, {"token": live.issuer.token(tenant, ttl_seconds=-60)}, 401),  # expired
        ({}, {"token": live.issuer.token(tenant, ["webhooks.deliveries.read"])}, 403),  # no events.read
    ]
    for headers, query, status in cases:
        _, reply = live.gateway.connect(headers, query, "127.0.0.1")
        assert reply.status == status, (headers, query, reply.body)
    assert token not in capsys.readouterr().out  # the refused ?token= is logged redacted


def test_subscribe_unsubscribe_and_ping(live: Live, tenant: str) -> None:
    socket = live.open(tenant)
    assert socket.send({"action": "ping"}) == {"type": "pong", "data": {}}
    reply = socket.send({"action": "subscribe", "id": "runs", "events": ["run.progress"], "filters": {"runId": "r"}})
    assert reply == {
        "type": "subscribed",
        "data": {"id": "runs", "events": ["run.progress"], "filters": {"runId": "r"}},
    }
    socket.send({"action": "subscribe"})
    item = stored(tenant, socket.connection_id)
    assert item is not None and [s["id"] for s in item["subscriptions"]] == ["runs", "default"]
    assert socket.send({"action": "unsubscribe", "id": "nope"})["data"]["error"]["code"] == "RESOURCE_NOT_FOUND"
    assert socket.send({"action": "unsubscribe", "id": "runs"}) == {"type": "unsubscribed", "data": {"id": "runs"}}
    assert socket.send({"action": "unsubscribe"}) == {"type": "unsubscribed", "data": {"id": None}}
    assert (stored(tenant, socket.connection_id) or {})["subscriptions"] == []


def test_a_socket_holds_a_bounded_number_of_subscriptions(live: Live, tenant: str) -> None:
    socket = live.open(tenant)
    for n in range(frames.MAX_SUBSCRIPTIONS):
        assert socket.send({"action": "subscribe", "id": f"s{n}"})["type"] == "subscribed"
    refused = socket.send({"action": "subscribe", "id": "one-more"})
    assert refused["data"]["error"]["code"] == "UNPROCESSABLE_ENTITY"
    assert socket.send({"action": "subscribe", "id": "s0", "events": ["X"]})["type"] == "subscribed"  # a replacement


@pytest.fixture
def limit() -> Iterator[int]:
    os.environ["LIVE_MESSAGES_PER_MINUTE"] = "3"
    get_settings.cache_clear()
    yield 3
    del os.environ["LIVE_MESSAGES_PER_MINUTE"]
    get_settings.cache_clear()


def test_past_the_rate_limit_the_socket_is_closed_with_4429(live: Live, tenant: str, limit: int) -> None:
    socket = live.open(tenant)
    for _ in range(limit):
        assert socket.send({"action": "ping"})["type"] == "pong"
    closing = socket.send({"action": "ping"})
    assert closing == {"type": "close", "data": {"code": 4429, "reason": "More than 3 frames in a minute."}}
    assert socket.peer.closed == (1000, "")  # API Gateway's DeleteConnection closes with 1000, as here
    assert stored(tenant, socket.connection_id) is None


def test_a_socket_whose_token_expired_is_closed_with_4401(live: Live, tenant: str) -> None:
    socket = live.open(tenant)
    aws.dynamodb().update_item(  # the token's end has come: as if the clock had moved on
        TableName=store.TABLE.name,
        Key=store.TABLE.key(tenant, socket.connection_id),
        UpdateExpression="SET tokenExpiresAt = :past",
        ExpressionAttributeValues={":past": {"N": "1"}},
    )
    assert socket.send({"action": "ping"})["data"]["code"] == frames.CLOSE_TOKEN_EXPIRED
    assert socket.peer.closed is not None and stored(tenant, socket.connection_id) is None


def test_a_frame_from_an_unknown_socket_is_told_to_retry(live: Live, tenant: str) -> None:
    socket = live.open(tenant)
    store.TABLE.delete(tenant, socket.connection_id)
    assert socket.send({"action": "ping"})["data"]["error"]["code"] == "SERVICE_UNAVAILABLE"
