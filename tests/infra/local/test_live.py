"""The local runtime's WebSocket front (``infra/local/live.py`` behind the HTTP server): handshake, the
``@connections`` API as boto3 expects it, and a ``?token=`` that never reaches the access log."""

from __future__ import annotations

import http.client
import json
import logging
from urllib.parse import urlsplit

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from infra.local.dev_issuer import DevIssuer
from infra.local.live import LiveGateway
from tests.live.conftest import Live, live, live_server  # noqa: F401 (fixtures)
from tests.support.live_socket import LiveSocket


def request(url: str, method: str, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str]]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    connection.request(method, path, headers=headers or {})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response.status, dict(response.getheaders())


def test_ws_without_an_upgrade_is_426(live_server: tuple[str, LiveGateway]) -> None:  # noqa: F811
    url, _ = live_server
    assert request(url, "GET", "/ws")[0] == 426


def test_connections_api_answers_as_api_gateway_does(live_server: tuple[str, LiveGateway]) -> None:  # noqa: F811
    url, _ = live_server
    status, headers = request(url, "POST", "/@connections/nope%3D")
    assert (status, headers.get("x-amzn-ErrorType")) == (410, "GoneException")


def test_a_socket_opens_answers_and_its_query_token_is_redacted(
    live_server: tuple[str, LiveGateway],  # noqa: F811
    live: Live,  # noqa: F811 (LIVE_ENDPOINT_URL set, so the replies are posted back here)
    issuer: DevIssuer,
    tenant: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url, _ = live_server
    token = issuer.token(tenant)
    with caplog.at_level(logging.INFO, logger="infra.local.server"):
        socket = LiveSocket(url.replace("http://", "ws://") + f"/ws?token={token}")
        socket.round_trip()
        socket.close()
    assert "token=[redacted]" in caplog.text and token not in caplog.text


def test_a_refused_handshake_carries_the_status(live_server: tuple[str, LiveGateway]) -> None:  # noqa: F811
    url, _ = live_server
    with pytest.raises(InvalidStatus) as refused:
        connect(url.replace("http://", "ws://") + "/ws", open_timeout=30)
    response = refused.value.response
    assert response.status_code == 401
    assert json.loads(response.body)["message"]
