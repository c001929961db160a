"""Idempotency-Key on creating POSTs: replay, 422 for another body, 409 in progress, per tenant, 24 h, no secrets."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from chalicelib.api.routing import OPERATIONS
from chalicelib.core import aws
from chalicelib.core.config import get_settings
from infra.local.dev_issuer import DevIssuer
from tests.api.expect import client_for, error_of
from tests.support.api_client import ApiClient
from tests.support.waiting import WAIT_SECONDS, poll

PROVIDER = {"key": "acme", "displayName": "Acme", "authModel": "ApiKey", "baseUrl": "https://api.acme.example"}
CONNECTION = {"providerId": "prov-github", "displayName": "GH", "credentials": {"token": "tok-idem"}}
SUBSCRIPTION = {"endpointUrl": "http://127.0.0.1:9/in", "eventTypes": ["*"]}
API_KEY = {"name": "ci", "scopes": ["integration.providers.read"]}
EVENT = {"type": "InvoicePaid", "data": {"amount": 1}}

# Every creating POST without path parameters, with a body that creates something.
CREATIONS: list[tuple[str, dict[str, Any], str]] = [
    ("/integrations/providers", PROVIDER, "providerId"),
    ("/integrations/connections", CONNECTION, "connectionId"),
    ("/webhooks/subscriptions", SUBSCRIPTION, "subscriptionId"),
    ("/auth/api-keys", API_KEY, "apiKeyId"),
    ("/events", EVENT, "eventId"),
]


def test_every_creating_post_is_declared_idempotent(local_api: object) -> None:
    creating = {(op.method, op.path) for op in OPERATIONS if op.method == "POST" and op.status == 201}
    declared = {(op.method, op.path) for op in OPERATIONS if op.idempotent}
    assert creating <= declared, creating - declared
    assert {path for path, _, _ in CREATIONS} <= {path for _, path in declared}


@pytest.mark.parametrize(("path", "body", "id_field"), CREATIONS)
def test_the_same_key_and_body_replay_the_first_response(
    client: ApiClient, path: str, body: dict[str, Any], id_field: str
) -> None:
    headers = {"Idempotency-Key": f"create-{id_field}"}
    first = client.post(path, body, headers=headers)
    assert first.status == 201, first.body
    again = client.post(path, dict(reversed(list(body.items()))), headers=headers)  # same JSON, other key order
    assert (again.status, again.header("Location"), again.header("Idempotent-Replayed")) == (
        201,
        first.header("Location"),
        "true",
    )
    assert again.json[id_field] == first.json[id_field] and again.json["traceId"] == first.json["traceId"]
    assert first.header("Idempotent-Replayed") is None
    clash = client.post(path, _changed(body), headers=headers)
    error_of(clash, 422, "IDEMPOTENCY_KEY_REUSED")
    fresh = client.post(path, body, headers={"Idempotency-Key": f"other-{id_field}"})
    assert fresh.status in (201, 409) and fresh.json.get(id_field) != first.json[id_field]


def _changed(body: dict[str, Any]) -> dict[str, Any]:
    for name, other in (("displayName", "Changed"), ("eventTypes", ["Other"]), ("name", "other")):
        if name in body:
            return {**body, name: other}
    return {**body, "data": {"amount": 2}}


def test_once_only_secrets_are_not_replayed_nor_recorded(client: ApiClient, tenant: str) -> None:
    headers = {"Idempotency-Key": "secret-once"}
    first = client.post("/auth/api-keys", API_KEY, headers=headers)
    again = client.post("/auth/api-keys", API_KEY, headers=headers)
    assert first.json["apiKey"] and "apiKey" not in again.json
    assert again.json["apiKeyId"] == first.json["apiKeyId"]
    connection = client.post("/integrations/connections", CONNECTION, headers=headers)
    assert connection.json["webhookSecret"]
    records = str(aws.dynamodb().scan(TableName=get_settings().table_name("idempotency"))["Items"])
    assert first.json["apiKey"] not in records and connection.json["webhookSecret"] not in records


def test_keys_are_per_tenant(client: ApiClient, local_api: Any, issuer: DevIssuer) -> None:
    headers = {"Idempotency-Key": "shared-key"}
    mine = client.post("/integrations/providers", PROVIDER, headers=headers)
    theirs = client_for(local_api, issuer).post("/integrations/providers", PROVIDER, headers=headers)
    assert mine.status == theirs.status == 201 and theirs.header("Idempotent-Replayed") is None
    assert mine.json["traceId"] != theirs.json["traceId"]  # each tenant ran its own request


def test_a_failed_request_is_not_recorded_and_a_run_is_replayed(client: ApiClient) -> None:
    headers = {"Idempotency-Key": "retry-after-failure"}
    invalid = client.post("/integrations/providers", {**PROVIDER, "authModel": "Nope"}, headers=headers)
    error_of(invalid, 400, "VALIDATION_ERROR")
    assert client.post("/integrations/providers", PROVIDER, headers=headers).status == 201
    connection = client.post("/integrations/connections", CONNECTION).json["connectionId"]
    path = f"/integrations/connections/{connection}/operations/GetRepository"
    run = client.post(path, {"parameters": {"owner": "o", "repo": "r"}}, headers=headers)
    again = client.post(path, {"parameters": {"owner": "o", "repo": "r"}}, headers=headers)
    assert run.status == again.status == 202 and again.json["runId"] == run.json["runId"]
    assert again.header("Location") == f"/integrations/runs/{run.json['runId']}"


def test_a_duplicate_while_the_first_runs_is_409(client: ApiClient) -> None:
    entered, release = threading.Event(), threading.Event()

    def slow_store(params: dict[str, Any], **_: Any) -> None:
        if params.get("TableName", "").endswith("-providers"):  # the first request is storing its provider
            entered.set()
            release.wait(WAIT_SECONDS)  # held until the duplicate has been answered

    events = aws.dynamodb().meta.events
    events.register("provide-client-params.dynamodb.PutItem", slow_store, unique_id="slow-store")
    headers = {"Idempotency-Key": "in-flight"}
    results: list[Any] = []
    first = threading.Thread(
        target=lambda: results.append(client.post("/integrations/providers", PROVIDER, headers=headers))
    )
    try:
        first.start()
        poll(entered.is_set, "the first request to reach its store")
        duplicate = client.post("/integrations/providers", PROVIDER, headers=headers)
        error_of(duplicate, 409, "IDEMPOTENCY_KEY_IN_PROGRESS")
        assert duplicate.header("Retry-After") == "1"
    finally:
        release.set()
        poll(lambda: not first.is_alive(), "the first request to finish")
        events.unregister("provide-client-params.dynamodb.PutItem", unique_id="slow-store")
    assert results[0].status == 201


def test_records_expire_after_24_hours(client: ApiClient) -> None:
    client.post("/integrations/providers", PROVIDER, headers={"Idempotency-Key": "ttl"})
    items = aws.dynamodb().scan(TableName=get_settings().table_name("idempotency"))["Items"]
    expirations = [int(item["expiration"]["N"]) for item in items]
    assert any(abs(e - (time.time() + 24 * 3600)) < 60 for e in expirations)


def test_a_bad_key_is_400(client: ApiClient) -> None:
    for key in ("x" * 256, "tab\there"):
        error_of(client.post("/events", EVENT, headers={"Idempotency-Key": key}), 400, "VALIDATION_ERROR")


def test_the_document_declares_the_header_and_the_rate_limit_headers(client: ApiClient) -> None:
    document = client.get("/openapi.json").json
    for op in OPERATIONS:
        declared = document["paths"][op.path][op.method.lower()]
        names = {p["name"] for p in declared.get("parameters", [])}
        assert ("Idempotency-Key" in names) == op.idempotent, (op.method, op.path)
        success = declared["responses"][str(op.status)]
        assert ("X-RateLimit-Remaining" in success["headers"]) == (op.scope is not None), (op.method, op.path)
        if op.scope is not None:
            assert "Retry-After" in declared["responses"]["429"]["headers"]
