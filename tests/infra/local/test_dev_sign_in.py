"""The console's development sign-in: only the local runtime's HTTP front has it; its tokens are the dev issuer's."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from infra.local.dev_issuer import DevIssuer
from infra.local.gateway import LocalApi
from infra.local.server import DEV_SIGN_IN_PATH, LocalHttpServer
from tests.support.api_client import Reply
from tests.support.waiting import WAIT_SECONDS


def send(base_url: str, method: str, body: bytes | None = None, token: str = "", path: str = DEV_SIGN_IN_PATH) -> Reply:
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
    request = urllib.request.Request(base_url + path, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=WAIT_SECONDS) as response:
            return Reply(response.status, dict(response.headers.items()), response.read())
    except urllib.error.HTTPError as error:
        return Reply(error.code, dict(error.headers.items()), error.read())


@pytest.fixture
def runtime_front(local_api: object, issuer: DevIssuer) -> Iterator[str]:
    """The HTTP front as ``make run`` attaches it: JWKS and the development sign-in beside the API."""
    assert isinstance(local_api, LocalApi)
    server = LocalHttpServer(0)
    server.attach(local_api, issuer.jwks(), issuer.token)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_it_signs_in_to_the_api_as_the_tenant_asked_for(runtime_front: str) -> None:
    assert send(runtime_front, "GET").json == {"available": True}
    reply = send(runtime_front, "POST", json.dumps({"tenant": "acme-dev"}).encode())
    assert reply.status == 200 and reply.header("Cache-Control") == "no-store"
    assert reply.json["tenant"] == "acme-dev"
    listed = send(runtime_front, "GET", token=reply.json["token"], path="/integrations/connections")
    assert listed.status == 200, listed.body


@pytest.mark.parametrize("body", [b"", b"{}", b'{"tenant": ""}', b'{"tenant": 7}', b"not json", b"[1]"])
def test_a_bad_request_is_400_not_a_crash(runtime_front: str, body: bytes) -> None:
    reply = send(runtime_front, "POST", body)
    assert reply.status == 400 and reply.json["error"]["code"] == "VALIDATION_ERROR", reply.body


def test_a_front_without_the_issuer_has_no_such_path(http_api: str) -> None:
    """What every deployed stage answers: API Gateway knows no such route."""
    assert send(http_api, "GET").status == 404
    assert send(http_api, "POST", b'{"tenant": "acme"}').status == 404
