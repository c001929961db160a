"""The OpenAPI document: valid 3.1, complete, self-consistent, and true to what the API answers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openapi_schema_validator import OAS31Validator, validate
from openapi_spec_validator import OpenAPIV31SpecValidator

from infra.local.dev_issuer import DevIssuer
from tests.support.api_client import ApiClient, Reply

JSON = "application/json"
ROOT = Path(__file__).resolve().parents[2]


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _pointer(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), f"{ref} is not a local reference"
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _resolved(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    return _pointer(document, node["$ref"]) if "$ref" in node else node


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def check_reply(document: dict[str, Any], method: str, template: str, reply: Reply) -> dict[str, Any]:
    """The reply's status, headers and body are the ones the document promises; returns the documented response."""
    responses = document["paths"][template][method.lower()]["responses"]
    assert str(reply.status) in responses, f"{method} {template} answered an undocumented {reply.status}"
    documented: dict[str, Any] = responses[str(reply.status)]
    for name, header in documented.get("headers", {}).items():
        if _resolved(document, header).get("required"):
            assert reply.header(name), f"{name} missing from the {reply.status} of {method} {template}"
    media = (reply.header("Content-Type") or "").split(";")[0].strip()
    schema = documented["content"][media]["schema"]
    validate(json.loads(reply.body), {**schema, "components": document["components"]}, cls=OAS31Validator)
    return documented


def test_the_document_is_valid_openapi_31(document: dict[str, Any]) -> None:
    OpenAPIV31SpecValidator(document).validate()
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"] == "Integration Platform API"
    assert document["info"]["version"] == "1.0.0"
    assert document["servers"] == [{"url": "/"}]


def test_every_route_is_documented_and_nothing_else(document: dict[str, Any]) -> None:
    from app import app

    routes = {(path, method.lower()) for path, methods in app.routes.items() for method in methods}
    documented = {(path, method) for path, method, _ in _operations(document)}
    assert routes == documented
    operation_ids = [operation["operationId"] for _, _, operation in _operations(document)]
    assert len(operation_ids) == len(set(operation_ids))
    assert document["paths"]["/docs"]["get"]["operationId"] == "api_docs"


def test_every_ref_resolves_and_every_body_is_a_component(document: dict[str, Any]) -> None:
    refs = set(_refs(document))
    assert refs, "the document references no components"
    for ref in refs:
        assert isinstance(_pointer(document, ref), dict), ref
    for path, method, operation in _operations(document):
        bodies = [operation.get("requestBody", {}).get("content", {})]
        bodies += [response.get("content", {}) for response in operation["responses"].values()]
        for content in bodies:
            for media in content.values():
                schema = media["schema"]
                if "$ref" in schema:
                    assert schema["$ref"].startswith("#/components/schemas/"), (method, path)


def test_security_scopes_and_public_operations(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    assert schemes["apiKeyAuth"] == {"type": "apiKey", "in": "header", "name": "X-API-Key"}
    for path in ("/health", "/openapi.json", "/docs"):
        assert document["paths"][path]["get"]["security"] == []
    connection = document["paths"]["/integrations/connections/{connectionId}"]["get"]
    scope = "integration.connections.read"
    assert connection["x-required-scope"] == scope
    assert scope in connection["description"]
    assert connection["security"] == [{"bearerAuth": [scope]}, {"apiKeyAuth": [scope]}]
    assert connection["parameters"][0] == {
        "name": "connectionId",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "minLength": 1},
    }


def test_the_vendor_facing_operations_are_marked_for_the_ingest_front(document: dict[str, Any]) -> None:
    """``x-front: ingest``: the SDK sends these to the ingest address (docs/deploy.md "Two fronts")."""
    marked = {(path, method) for path, method, operation in _operations(document) if operation.get("x-front")}
    assert marked == {("/webhooks/deliveries", "post"), ("/webhooks/deliveries/{id}", "post")}
    for path, method in marked:
        operation = document["paths"][path][method]
        assert operation["x-front"] == "ingest" and operation["security"] == []
        assert "webhookUrl" in operation["description"]


def test_responses_follow_what_the_pipeline_can_answer(document: dict[str, Any]) -> None:
    for path, method, operation in _operations(document):
        statuses = set(operation["responses"])
        authenticated = bool(operation["security"])
        has_body = "requestBody" in operation
        assert {"406", "500"} <= statuses, (method, path)
        assert ({"401", "403"} <= statuses) == authenticated, (method, path)
        assert ({"413", "415"} <= statuses) == has_body, (method, path)
        for status, response in operation["responses"].items():
            assert "X-Trace-Id" in response["headers"], (method, path, status)
            schema = response["content"][JSON]["schema"] if status.startswith(("4", "5")) else None
            if schema is None or path == "/health":
                continue
            if path == "/mcp" and status == "400":  # a message that is not JSON-RPC: a JSON-RPC error (docs/mcp.md)
                assert {"$ref": "#/components/schemas/ErrorResponse"} in schema["anyOf"], schema
            else:
                assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, (method, path, status)


def test_query_models_become_query_parameters(document: dict[str, Any]) -> None:
    parameters = {p["name"]: p for p in document["paths"]["/integrations/connections"]["get"]["parameters"]}
    assert {"limit", "cursor"} <= set(parameters)
    assert all(p["in"] == "query" and not p["required"] for p in parameters.values())
    assert parameters["limit"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}
    assert parameters["cursor"]["schema"] == {"type": "string"}


def test_the_error_shape_matches_a_real_404(document: dict[str, Any], client: ApiClient) -> None:
    reply = client.get("/integrations/connections/conn-doesnotexist")
    assert reply.status == 404
    documented = check_reply(document, "GET", "/integrations/connections/{connectionId}", reply)
    assert documented["content"][JSON]["schema"]["$ref"] == "#/components/schemas/ErrorResponse"
    body = reply.json
    assert body["error"]["code"] == "RESOURCE_NOT_FOUND"
    assert body["traceId"] == reply.header("X-Trace-Id")
    error_schema = document["components"]["schemas"]["ErrorResponse"]
    assert set(body) == set(error_schema["properties"])


def test_real_answers_match_their_documented_responses(
    document: dict[str, Any], client: ApiClient, issuer: DevIssuer, tenant: str
) -> None:
    runs_only = issuer.token(tenant, ["integration.runs.read"])
    cases: list[tuple[str, str, Reply, int]] = [
        ("GET", "/integrations/connections", client.get("/integrations/connections?limit=2"), 200),
        ("GET", "/integrations/connections", client.get("/integrations/connections?limit=0"), 400),
        ("GET", "/integrations/connections", client.request("GET", "/integrations/connections", token=""), 401),
        ("GET", "/integrations/connections", client.get("/integrations/connections", token=runs_only), 403),
        (
            "GET",
            "/integrations/connections",
            client.get(
                "/integrations/connections", headers={"Accept": "application/vnd.connectsoft.integration.v9+json"}
            ),
            406,
        ),
        (
            "POST",
            "/integrations/providers",
            client.post("/integrations/providers", body=b"key=x", headers={"Content-Type": "text/plain"}),
            415,
        ),
        ("GET", "/health", client.get("/health"), 200),
        ("GET", "/openapi.json", client.get("/openapi.json"), 200),
    ]
    for method, template, reply, expected in cases:
        assert reply.status == expected, (method, template, reply.status, reply.body)
        check_reply(document, method, template, reply)


def test_openapi_json_is_public_and_served_from_one_build(local_api: object) -> None:
    anonymous = ApiClient(local_api)  # type: ignore[arg-type]
    first = anonymous.get("/openapi.json")
    second = anonymous.get("/openapi.json")
    assert first.status == 200
    assert first.header("Content-Type") == JSON
    assert first.header("X-Trace-Id")
    assert first.body == second.body
    assert "securitySchemes" in first.json["components"]


def test_the_document_is_not_built_at_import() -> None:
    """Cold start: importing the app must not load the schema generator module or build anything."""
    probe = "import sys, app; print('chalicelib.api.openapi' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=dict(os.environ), cwd=ROOT
    )
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize("template", ["/integrations/connections", "/integrations/providers"])
def test_request_bodies_reference_strict_validation_schemas(document: dict[str, Any], template: str) -> None:
    schema = document["paths"][template]["post"]["requestBody"]["content"][JSON]["schema"]
    component = _pointer(document, schema["$ref"])
    assert component["additionalProperties"] is False
    assert component["required"]


def test_the_document_shows_destinations_and_the_platform_bus(document: dict[str, Any], client: ApiClient) -> None:
    """Issue 22: a subscription's destination is one of five shapes, told apart by ``type``; ``GET /events/bus``
    names the bus an ``eventbridge`` destination may take, and a real subscription on it reads as documented."""
    schemas = document["components"]["schemas"]
    destination = schemas["Subscription"]["properties"]["destination"]
    kinds = {
        "webhook": "url",
        "sqs": "queueArn",
        "sns": "topicArn",
        "eventbridge": "eventBusArn",
        "kinesis": "streamArn",
    }
    assert destination["discriminator"]["propertyName"] == "type"
    for kind, field in kinds.items():
        shape = _pointer(document, destination["discriminator"]["mapping"][kind])
        assert shape["properties"]["type"]["const"] == kind and field in shape["required"], kind
    assert "destination" in schemas["CreateSubscriptionRequest"]["properties"]
    assert "destination" in schemas["UpdateSubscriptionRequest"]["properties"]
    bus = check_reply(document, "GET", "/events/bus", client.get("/events/bus"))
    assert bus["content"][JSON]["schema"] == {"$ref": "#/components/schemas/EventBus"}
    arn = client.get("/events/bus").json["eventBusArn"]
    created = client.post(
        "/webhooks/subscriptions", {"eventTypes": ["*"], "destination": {"type": "eventbridge", "eventBusArn": arn}}
    )
    assert created.status == 201, created.body
    check_reply(document, "POST", "/webhooks/subscriptions", created)
    read = client.get(f"/webhooks/subscriptions/{created.json['subscriptionId']}")
    check_reply(document, "GET", "/webhooks/subscriptions/{subscriptionId}", read)
