"""The local runtime's HTTP front over real sockets: isolation under concurrency, odd methods, bursts."""

from __future__ import annotations

import http.client
import json
import socket
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest

from infra.local.dev_issuer import DevIssuer
from infra.local.gateway import LocalApi
from infra.local.server import LocalHttpServer
from tests.api.expect import client_for
from tests.connections.test_create import CONNECTIONS, connection
from tests.support.api_client import Reply
from tests.support.waiting import WAIT_SECONDS

REQUESTS_PER_TENANT = 250
WORKERS = 24
SIMULTANEOUS_CONNECTS = 60
SWITCH_INTERVAL = 1e-5


@dataclass(frozen=True)
class Tenant:
    token: str
    connection_id: str


@pytest.fixture(scope="module")
def two_tenants(local_api: LocalApi, issuer: DevIssuer) -> dict[str, Tenant]:
    tenants = {}
    for name in ("a", "b"):
        client = client_for(local_api, issuer)
        created = client.post(CONNECTIONS, connection(displayName=f"tenant {name}"))
        assert created.status == 201, created.body
        assert client.token is not None
        tenants[name] = Tenant(client.token, created.json["connectionId"])
    return tenants


def http_request(base_url: str, method: str, path: str, headers: dict[str, str] | None = None) -> Reply:
    request = urllib.request.Request(base_url + path, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=WAIT_SECONDS) as response:
            return Reply(response.status, dict(response.headers.items()), response.read())
    except urllib.error.HTTPError as error:
        return Reply(error.code, dict(error.headers.items()), error.read())


@pytest.fixture
def eager_thread_switching() -> Iterator[None]:
    """Let the interpreter switch threads every few microseconds (default 5 ms), so races show up in every run."""
    default = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL)
    try:
        yield
    finally:
        sys.setswitchinterval(default)


@pytest.mark.usefixtures("eager_thread_switching")
def test_concurrent_requests_of_two_tenants_never_see_each_other(http_api: str, two_tenants: dict[str, Tenant]) -> None:
    """Each request carries its own correlation id; its answer must carry that id and only its tenant's list."""

    def list_as(name: str, number: int) -> list[str]:
        tenant = two_tenants[name]
        correlation = f"{name}-{number}"
        reply = http_request(
            http_api,
            "GET",
            CONNECTIONS,
            {"Authorization": f"Bearer {tenant.token}", "X-Correlation-Id": correlation},
        )
        problems = []
        if reply.status != 200:
            problems.append(f"{correlation}: {reply.status} {reply.body!r}")
        elif reply.header("X-Trace-Id") != correlation:
            problems.append(f"{correlation}: answered with the trace id {reply.header('X-Trace-Id')}")
        elif [item["connectionId"] for item in reply.json["items"]] != [tenant.connection_id]:
            problems.append(f"{correlation}: listed {reply.json['items']}")
        return problems

    calls = [(name, number) for number in range(REQUESTS_PER_TENANT) for name in ("a", "b")]
    with ThreadPoolExecutor(WORKERS) as pool:
        problems = [problem for found in pool.map(lambda call: list_as(*call), calls) for problem in found]

    assert not problems, f"{len(problems)} of {len(calls)} answers belonged to another request: {problems[:5]}"


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "PROPFIND", "BREW"])
def test_a_method_without_a_route_is_405_in_the_error_shape(http_api: str, method: str) -> None:
    reply = http_request(http_api, method, "/health", {"X-Correlation-Id": f"odd-{method}"})

    assert reply.status == 405, reply.body
    assert reply.header("Content-Type") == "application/json"
    assert reply.json == {
        "error": {"code": "METHOD_NOT_ALLOWED", "message": f"Unsupported method: {method}", "details": []},
        "traceId": f"odd-{method}",
    }
    assert reply.header("Allow") == "GET"


def test_a_method_without_a_route_on_an_unknown_path_is_404(http_api: str) -> None:
    reply = http_request(http_api, "TRACE", "/no/such/route")

    assert reply.status == 404, reply.body
    assert reply.json["error"]["code"] == "RESOURCE_NOT_FOUND"


def test_connect_to_an_authority_is_404_in_the_error_shape(http_api: str) -> None:
    """``CONNECT host:port`` asks for a proxy tunnel; it names no path of the API, so no route matches."""
    connection = http.client.HTTPConnection(urlsplit(http_api).netloc, timeout=WAIT_SECONDS)
    try:
        connection.putrequest("CONNECT", "169.254.169.254:80", skip_host=True, skip_accept_encoding=True)
        connection.putheader("X-Correlation-Id", "odd-tunnel")
        connection.endheaders()
        response = connection.getresponse()
        body = json.loads(response.read())
    finally:
        connection.close()

    assert response.status == 404
    assert body == {
        "error": {
            "code": "RESOURCE_NOT_FOUND",
            "message": "No route matches CONNECT 169.254.169.254:80.",
            "details": [],
        },
        "traceId": "odd-tunnel",
    }


class PausedServer:
    """A server that listens but does not accept until ``resume``, so every connect waits in the listen backlog."""

    def __init__(self, api: LocalApi, issuer: DevIssuer) -> None:
        self.server = LocalHttpServer(0)
        self.server.attach(api, issuer.jwks())
        self.port = self.server.server_address[1]
        self.serving = False

    def resume(self) -> None:
        threading.Thread(target=self.server.serve_forever, name="burst-http", daemon=True).start()
        self.serving = True

    def close(self) -> None:
        if self.serving:  # shutdown() waits for serve_forever, which would never come if it never ran
            self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def paused_server(local_api: LocalApi, issuer: DevIssuer) -> Iterator[PausedServer]:
    paused = PausedServer(local_api, issuer)
    try:
        yield paused
    finally:
        paused.close()


def test_simultaneous_connects_all_get_an_answer(paused_server: PausedServer) -> None:
    port = paused_server.port
    sockets = []
    try:
        for _ in range(SIMULTANEOUS_CONNECTS):
            # Non-blocking: a connect the backlog has no room for stays pending instead of completing.
            sock = socket.socket()
            sock.setblocking(False)
            sock.connect_ex(("127.0.0.1", port))
            sockets.append(sock)
        pending = [sock for sock in sockets if not _connected(sock)]
        assert not pending, f"{len(pending)} of {SIMULTANEOUS_CONNECTS} connects found no room in the listen backlog"

        paused_server.resume()
        statuses = []
        for sock in sockets:
            sock.setblocking(True)
            sock.settimeout(60)
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: local\r\nConnection: close\r\n\r\n")
            statuses.append(sock.makefile("rb").readline().split()[1])
    finally:
        for sock in sockets:
            sock.close()

    assert statuses == [b"200"] * SIMULTANEOUS_CONNECTS


def _connected(sock: socket.socket) -> bool:
    """Whether the handshake is done (on loopback it completes within ``connect`` when the backlog has room)."""
    try:
        sock.getpeername()
    except OSError:
        return False
    return True
