"""A deprecated route or request field tells every caller when it goes, in headers and in /openapi.json."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from chalice.app import Blueprint, Chalice
from chalice.test import Client

from chalicelib.api import routing
from chalicelib.api.deprecation import Deprecation, deprecated_field
from chalicelib.api.middleware import http_middleware
from chalicelib.api.openapi import build_document
from chalicelib.api.routing import Call, endpoint
from chalicelib.core.errors import NotFound
from chalicelib.core.models import RequestModel

OLD_ROUTE = Deprecation(since=date(2026, 11, 1), sunset=date(2027, 5, 1), doc="https://docs.example/migrate-echo")
OLD_FIELD = Deprecation(since=date(2026, 10, 1), sunset=date(2027, 3, 1), doc="https://docs.example/echo-name")
HEADERS = {
    "deprecation": "@1793491200",  # 2026-11-01T00:00:00Z
    "sunset": "Sat, 01 May 2027 00:00:00 GMT",
    "link": '<https://docs.example/migrate-echo>; rel="deprecation"',
}


class EchoRequest(RequestModel):
    text: str = "hi"
    name: str | None = deprecated_field(OLD_FIELD, "Use text.", default=None)


@pytest.fixture
def client() -> Iterator[Client]:
    before = list(routing.OPERATIONS)
    blueprint = Blueprint(__name__)

    @endpoint(blueprint, "/old-echo", "POST", summary="Echo", tag="Test", scope=None, deprecation=OLD_ROUTE)
    def old_echo(call: Call) -> dict[str, Any]:
        if call.headers.get("x-missing"):
            raise NotFound("Nothing here.")
        return {"ok": True}

    @endpoint(blueprint, "/echo", "POST", summary="Echo", tag="Test", scope=None, request=f"{__name__}.EchoRequest")
    def echo(call: Call) -> dict[str, Any]:
        return {"text": call.body.text}

    app = Chalice(app_name="deprecation-test")
    app.register_middleware(http_middleware, "http")
    app.register_blueprint(blueprint)
    try:
        with Client(app) as test_client:
            yield test_client
    finally:
        routing.OPERATIONS[:] = before  # the real app's /openapi.json never sees these routes


def post(client: Client, path: str, body: dict[str, Any], **headers: str) -> Any:
    return client.http.post(path, body=json.dumps(body), headers={"Content-Type": "application/json", **headers})


def test_a_deprecated_route_says_so_on_success_and_on_error(client: Client) -> None:
    ok = post(client, "/old-echo", {})
    missing = post(client, "/old-echo", {}, **{"X-Missing": "1"})
    assert ok.status_code == 200 and missing.status_code == 404
    for response in (ok, missing):
        received = {name.lower(): value for name, value in response.headers.items()}
        assert {name: received.get(name) for name in HEADERS} == HEADERS


def test_a_deprecated_field_is_announced_only_when_a_request_uses_it(client: Client) -> None:
    plain = post(client, "/echo", {"text": "a"})
    old = post(client, "/echo", {"text": "a", "name": "b"})
    assert plain.status_code == old.status_code == 200
    assert "deprecation" not in {name.lower() for name in plain.headers}
    received = {name.lower(): value for name, value in old.headers.items()}
    assert received["sunset"] == "Mon, 01 Mar 2027 00:00:00 GMT"
    assert received["link"] == '<https://docs.example/echo-name>; rel="deprecation"'


def test_openapi_marks_the_route_and_the_field(client: Client) -> None:
    document = build_document(routing.OPERATIONS)
    operation = document["paths"]["/old-echo"]["post"]
    assert operation["deprecated"] is True and operation["x-sunset"] == "2027-05-01"
    assert "https://docs.example/migrate-echo" in operation["description"]
    assert "deprecated" not in document["paths"]["/echo"]["post"]
    field = document["components"]["schemas"]["EchoRequest"]["properties"]["name"]
    assert field["deprecated"] is True and field["x-sunset"] == "2027-03-01"
