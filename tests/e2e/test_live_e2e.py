"""Live events over the local runtime's WebSocket API, with a real WebSocket client (docs/live.md)."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.exceptions import InvalidStatus

from tests.e2e.conftest import LocalRuntime, start_runtime
from tests.support.live_socket import LiveSocket
from tests.support.waiting import poll


def ws_url(runtime: LocalRuntime, token: str | None = None) -> str:
    url = runtime.base_url.replace("http://", "ws://") + "/ws"
    return f"{url}?token={token}" if token else url


@pytest.fixture
def tenant() -> str:
    return f"tenant-{secrets.token_hex(4)}"


@pytest.fixture
def token(local_runtime: LocalRuntime, tenant: str) -> str:
    return local_runtime.token(tenant)


@pytest.fixture
def socket(local_runtime: LocalRuntime, token: str) -> Iterator[LiveSocket]:
    opened = LiveSocket(ws_url(local_runtime), {"Authorization": f"Bearer {token}"})
    yield opened
    opened.close()


def publish(runtime: LocalRuntime, token: str, event_type: str, data: dict[str, object]) -> str:
    reply = runtime.request("POST", "/events", token=token, json_body={"type": event_type, "data": data})
    assert reply.status in (200, 201), reply.body
    return str(reply.json["eventId"])


def test_an_inbound_webhook_arrives_as_a_frame(local_runtime: LocalRuntime, token: str, socket: LiveSocket) -> None:
    created = local_runtime.request(
        "POST",
        "/integrations/connections",
        token=token,
        json_body={"providerId": "prov-github", "displayName": "live", "credentials": {"token": "ghp_live"}},
    )
    assert created.status == 201, created.body
    socket.subscribe(events=["PullRequestMerged"])
    body = json.dumps({"action": "closed", "pull_request": {"merged": True, "title": "live"}}).encode()
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "pull_request",
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": "sha256="
        + hmac.new(created.json["webhookSecret"].encode(), body, hashlib.sha256).hexdigest(),
    }
    path = created.json["webhookUrl"].removeprefix(local_runtime.base_url)
    accepted = local_runtime.send("POST", path, body, headers)
    assert accepted.status == 202, accepted.body

    frame = socket.wait_for(lambda f: f["type"] == "PullRequestMerged", "the webhook's frame")
    assert frame["subscription"] == "default" and frame["id"].startswith("evt-")
    assert frame["data"]["connectionId"] == created.json["connectionId"]


def test_a_filter_narrows_what_arrives(local_runtime: LocalRuntime, token: str, socket: LiveSocket) -> None:
    socket.subscribe(events=["OrderShipped"], filters={"connectionId": "conn-wanted"})
    publish(local_runtime, token, "OrderShipped", {"connectionId": "conn-other", "n": 1})
    publish(local_runtime, token, "OrderPacked", {"connectionId": "conn-wanted", "n": 2})
    wanted = publish(local_runtime, token, "OrderShipped", {"connectionId": "conn-wanted", "n": 3})

    socket.wait_for(lambda f: f.get("id") == wanted, "the matching event")
    socket.round_trip()
    events = [f for f in socket.seen if f["type"] not in ("subscribed", "pong")]
    assert [f["data"]["n"] for f in events] == [3]


def test_another_tenants_socket_receives_nothing(local_runtime: LocalRuntime, token: str, socket: LiveSocket) -> None:
    other = LiveSocket(ws_url(local_runtime, local_runtime.token(f"tenant-{secrets.token_hex(4)}")))
    try:
        other.subscribe()
        socket.subscribe()
        event_id = publish(local_runtime, token, "OrderShipped", {"n": 1})
        socket.wait_for(lambda f: f.get("id") == event_id, "the tenant's own frame")
        other.round_trip()
        assert [f["type"] for f in other.seen] == ["subscribed", "pong"]
    finally:
        other.close()


def test_bad_frames_get_an_error_and_the_socket_survives(socket: LiveSocket) -> None:
    for bad in ("not json", "[1, 2]", json.dumps({"action": "dance"}), json.dumps({"action": "subscribe", "x": 1})):
        socket.send(bad)
    socket.send("x" * (33 * 1024))
    socket.round_trip()
    errors = [f["data"]["error"]["code"] for f in socket.seen if f["type"] == "error"]
    assert errors == ["VALIDATION_ERROR"] * 4 + ["PAYLOAD_TOO_LARGE"]
    assert all(f["data"]["traceId"] for f in socket.seen if f["type"] == "error")
    assert not socket.closed


def test_a_socket_needs_a_credential_with_the_read_scope(local_runtime: LocalRuntime, tenant: str) -> None:
    with pytest.raises(InvalidStatus) as refused:
        LiveSocket(ws_url(local_runtime))
    assert refused.value.response.status_code == 401
    narrow = local_runtime.token(tenant, scopes="webhooks.deliveries.read")
    with pytest.raises(InvalidStatus) as denied:
        LiveSocket(ws_url(local_runtime, narrow))
    assert denied.value.response.status_code == 403
    assert narrow not in local_runtime.output  # ?token= is redacted from the access log


def test_the_rate_limit_closes_the_socket_with_its_code(tmp_path: Path, tenant: str) -> None:
    """002's limit (``LIVE_MESSAGES_PER_MINUTE``, 1000) per connection, then a close frame with 4429 and the socket
    closes. This runtime's limit is 50, so that even a loaded machine sends more than the limit within a minute
    (2001 pings through the local gateway took over two minutes there): 101 frames, so that even if a minute
    window turns over while they go out, one window sees more than 50."""
    runtime = start_runtime(tmp_path / "runtime", LIVE_MESSAGES_PER_MINUTE="50")
    try:
        socket = LiveSocket(ws_url(runtime), {"Authorization": f"Bearer {runtime.token(tenant)}"})
        try:
            for _ in range(101):
                socket.send({"action": "ping"})
            closing = socket.wait_for(lambda f: f["type"] == "close", "the close frame")
            assert closing["data"]["code"] == 4429
            assert sum(1 for f in socket.seen if f["type"] == "pong") >= 50
            poll(lambda: socket.drain() is not None and socket.closed, "the socket closed")
        finally:
            socket.close()
    finally:
        runtime.stop()
