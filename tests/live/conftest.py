"""The live gateway in process: the app's WebSocket handlers behind the local runtime's ``@connections`` API.

``Peer`` stands in for a client's socket (what the local server would write
to it); everything between, the handlers, the connections table and the
``apigatewaymanagementapi`` client posting over HTTP, is the real code.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from infra.local.dev_issuer import DevIssuer
from infra.local.live import LiveGateway


@dataclass
class Peer:
    frames: list[dict[str, Any]] = field(default_factory=list)
    closed: tuple[int, str] | None = None
    dead: bool = False

    def send(self, message: str, /) -> None:
        if self.dead:
            raise ConnectionResetError("the client went away")
        self.frames.append(json.loads(message))

    def close(self, code: int, reason: str, /) -> None:
        self.closed = (code, reason)

    def of_type(self, frame_type: str) -> list[dict[str, Any]]:
        return [frame for frame in self.frames if frame["type"] == frame_type]


@dataclass
class Socket:
    gateway: LiveGateway
    connection_id: str
    peer: Peer

    def send(self, frame: dict[str, Any] | str) -> dict[str, Any]:
        """Send a frame; the reply it got (the handlers post it before returning)."""
        before = len(self.peer.frames)
        self.gateway.receive(self.connection_id, frame if isinstance(frame, str) else json.dumps(frame))
        assert len(self.peer.frames) > before, "no reply"
        return self.peer.frames[-1]


@dataclass
class Live:
    gateway: LiveGateway
    issuer: DevIssuer

    def open(self, tenant: str, headers: dict[str, str] | None = None, query: dict[str, str] | None = None) -> Socket:
        if headers is None and query is None:
            headers = {"Authorization": f"Bearer {self.issuer.token(tenant)}"}
        connection_id, reply = self.gateway.connect(headers or {}, query or {}, "127.0.0.1")
        assert reply.status == 200, reply.body
        peer = Peer()
        self.gateway.attach(connection_id, peer, "127.0.0.1")
        return Socket(self.gateway, connection_id, peer)


@pytest.fixture(scope="session")
def live_server(local_api: object, issuer: DevIssuer) -> Iterator[tuple[str, LiveGateway]]:
    from app import app
    from chalicelib.core.config import get_settings
    from infra.local.gateway import LocalApi
    from infra.local.server import LocalHttpServer

    assert isinstance(local_api, LocalApi)
    server = LocalHttpServer(0)
    address = f"127.0.0.1:{server.server_address[1]}"
    gateway = LiveGateway(app, "dev", get_settings().region, address)
    server.attach(local_api, issuer.jwks(), None, gateway)
    thread = threading.Thread(target=server.serve_forever, name="test-live", daemon=True)
    thread.start()
    try:
        yield f"http://{address}", gateway
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def live(live_server: tuple[str, LiveGateway], issuer: DevIssuer) -> Iterator[Live]:
    """The endpoint is set for this test only: elsewhere the stream handler pushes nothing."""
    from chalicelib.live import store

    url, gateway = live_server
    os.environ["LIVE_ENDPOINT_URL"] = url
    store.forget()
    yield Live(gateway, issuer)
    del os.environ["LIVE_ENDPOINT_URL"]
