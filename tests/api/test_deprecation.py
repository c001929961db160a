"""Deprecated operations and fields: RFC 9745/8594 headers on the wire, ``deprecated`` in OpenAPI.

The routes here exist only in this test's own Chalice app; the operations they
register are removed again so ``/openapi.json`` never shows them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from chalice.app import Blueprint, Chalice
from chalice.test import Client
from pydantic import Field

from chalicelib.api import deprecation, routing
from chalicelib.api.middleware import http_middleware
from chalicelib.api.routing import Call, endpoint
from chalicelib.core.errors import NotFound
from chalicelib.core.models import RequestModel, WireModel
from chalicelib.system.openapi import build_document

DOC = "https://docs.example.test/api#deprecation"
OLD = deprecation.on("2026-01-01", "2027-06-30", DOC)


class Renamed(RequestModel):
    name: str | None = None
    title: str | None = Field(
        default=None, **deprecation.deprecated_field("Use name.", since="2026-03-01", sunset="2027-01-31", link=DOC)
    )


class Echo(WireModel):
    name: str | None = None


@pytest.fixture
def app(local_api: object) -> Iterator[Chalice]:
    registered = len(routing.OPERATIONS)
    blueprint = Blueprint(__name__)

    @endpoint(blueprint, "/old/{id}", "GET", summary="Old", tag="Test", scope=None, errors=(404,), deprecated=OLD)
    def old_route(call: Call) -> dict[str, Any]:
        if call.path["id"] == "missing":
            raise NotFound("No such thing.")
        return {"ok": True}

    @endpoint(blueprint, "/renamed", "POST", summary="Renamed", tag="Test", scope=None, request=Renamed, response=Echo)
    def renamed_route(call: Call) -> Echo:
        body: Renamed = call.body
        return Echo(name=body.name or body.__dict__["title"])

    test_app = Chalice(app_name="deprecation-test")
    test_app.register_middleware(http_middleware, "http")
    test_app.register_blueprint(blueprint)
    yield test_app
    del routing.OPERATIONS[registered:]


def test_a_deprecated_operation_answers_with_the_three_headers_errors_included(app: Chalice) -> None:
    with Client(app) as client:
        for path, status in (("/old/1", 200), ("/old/missing", 404)):
            reply = client.http.get(path)
            assert reply.status_code == status
            assert reply.headers["Deprecation"] == f"@{int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())}"
            assert reply.headers["Sunset"] == "Wed, 30 Jun 2027 00:00:00 GMT"
            assert parsedate_to_datetime(reply.headers["Sunset"]) == datetime(2027, 6, 30, tzinfo=UTC)
            assert reply.headers["Link"] == f'<{DOC}>; rel="deprecation"'


def test_a_deprecated_field_sends_the_headers_only_when_used(app: Chalice) -> None:
    with Client(app) as client:
        current = client.http.post(
            "/renamed", body=json.dumps({"name": "a"}), headers={"Content-Type": "application/json"}
        )
        assert current.status_code == 200 and "Deprecation" not in current.headers
        legacy = client.http.post(
            "/renamed", body=json.dumps({"title": "a"}), headers={"Content-Type": "application/json"}
        )
        assert legacy.status_code == 200 and json.loads(legacy.body) == {"name": "a"}
        assert legacy.headers["Sunset"] == "Sun, 31 Jan 2027 00:00:00 GMT"
        assert legacy.headers["Link"] == f'<{DOC}>; rel="deprecation"'


def test_openapi_marks_the_operation_and_the_field(app: Chalice) -> None:
    ours = [op for op in routing.OPERATIONS if op.tag == "Test"]
    document = build_document(ours)
    operation = document["paths"]["/old/{id}"]["get"]
    assert operation["deprecated"] is True
    assert operation["x-sunset"] == "2027-06-30T00:00:00Z" and operation["x-deprecation-link"] == DOC
    assert "deprecated" not in document["paths"]["/renamed"]["post"]
    title = document["components"]["schemas"]["Renamed"]["properties"]["title"]
    assert title["deprecated"] is True and title["x-sunset"] == "2027-01-31T00:00:00Z"
    assert "deprecated" not in document["components"]["schemas"]["Renamed"]["properties"]["name"]
