"""API keys: shown once, stored as a hash, scoped to the creator, X-API-Key equals a bearer token, 401 once dead."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.auth import api_keys
from chalicelib.core import aws
from chalicelib.core.config import get_settings
from infra.local.dev_issuer import DevIssuer
from tests.api.expect import client_for, error_of, fields_of
from tests.support.api_client import ApiClient

READ_PROVIDERS = "integration.providers.read"


def issue(client: ApiClient, scopes: list[str], **extra: Any) -> dict[str, Any]:
    reply = client.post("/auth/api-keys", {"name": "ci", "scopes": scopes, **extra})
    assert reply.status == 201, reply.body
    assert reply.header("Location") == f"/auth/api-keys/{reply.json['apiKeyId']}"
    return dict(reply.json)


def get_as_key(client: ApiClient, path: str, key: str) -> Any:
    return client.get(path, token="", headers={"X-API-Key": key})


def test_the_key_is_shown_once_and_stored_only_as_its_hash(client: ApiClient, tenant: str) -> None:
    created = issue(client, [READ_PROVIDERS], expiresAt="2099-01-01T00:00:00Z")
    key = created["apiKey"]
    assert key.startswith("ipk_") and len(key) > 40 and created["prefix"] == key[:8]
    assert created["status"] == "Active" and created["expiresAt"] == "2099-01-01T00:00:00.000Z"
    assert created["scopes"] == [READ_PROVIDERS] and created["apiKeyId"].startswith("key-")
    listed = client.get("/auth/api-keys")
    assert listed.status == 200 and [k["apiKeyId"] for k in listed.json["items"]] == [created["apiKeyId"]]
    assert key not in listed.body.decode() and "apiKey" not in listed.json["items"][0]
    items = aws.dynamodb().scan(TableName=get_settings().table_name("api-keys"))["Items"]
    stored = [i for i in items if i["tenantId"]["S"] == tenant]
    assert stored[0]["keyHash"]["S"] == hashlib.sha256(key.encode()).hexdigest()
    assert all(key not in str(item) for item in items)


def test_x_api_key_authenticates_exactly_as_a_bearer_token(client: ApiClient, tenant: str) -> None:
    key = issue(client, [READ_PROVIDERS])["apiKey"]
    as_key = get_as_key(client, "/integrations/providers", key)
    as_token = client.get("/integrations/providers")
    assert as_key.status == as_token.status == 200
    assert as_key.json["items"] == as_token.json["items"]
    error_of(get_as_key(client, "/integrations/connections", key), 403, "AUTHORIZATION_DENIED")
    both = client.get("/integrations/providers", headers={"X-API-Key": key})
    error_of(both, 401, "AUTHENTICATION_FAILED")


def test_a_key_sees_only_its_own_tenant(client: ApiClient, local_api: Any, issuer: DevIssuer) -> None:
    provider = client.post(
        "/integrations/providers",
        {"key": "acme", "displayName": "Acme", "authModel": "ApiKey", "baseUrl": "https://api.acme.example"},
    ).json
    other = client_for(local_api, issuer)
    key = issue(other, [READ_PROVIDERS])["apiKey"]
    path = f"/integrations/providers/{provider['providerId']}"
    error_of(get_as_key(client, path, key), 404, "RESOURCE_NOT_FOUND")


def test_a_key_carries_at_most_its_creators_scopes(client: ApiClient, issuer: DevIssuer, tenant: str) -> None:
    narrow = ApiClient(client._api, issuer.token(tenant, ["auth.api-keys.write", READ_PROVIDERS]))
    denied = narrow.post("/auth/api-keys", {"name": "x", "scopes": [READ_PROVIDERS, "integration.runs.write"]})
    assert "integration.runs.write" in error_of(denied, 403, "AUTHORIZATION_DENIED")["message"]
    key = issue(narrow, ["auth.api-keys.write", READ_PROVIDERS])["apiKey"]
    by_key = {"token": "", "headers": {"X-API-Key": key}}
    escalate = client.post("/auth/api-keys", {"name": "y", "scopes": ["integration.connections.read"]}, **by_key)
    error_of(escalate, 403, "AUTHORIZATION_DENIED")
    child = client.post("/auth/api-keys", {"name": "z", "scopes": [READ_PROVIDERS]}, **by_key)
    assert child.status == 201 and child.json["createdBy"].startswith("apikey:key-")


def test_revocation_takes_effect_on_the_next_request(client: ApiClient) -> None:
    created = issue(client, [READ_PROVIDERS])
    assert get_as_key(client, "/integrations/providers", created["apiKey"]).status == 200
    revoked = client.request("DELETE", f"/auth/api-keys/{created['apiKeyId']}")
    assert revoked.status == 204
    error_of(get_as_key(client, "/integrations/providers", created["apiKey"]), 401, "AUTHENTICATION_FAILED")
    assert client.request("DELETE", f"/auth/api-keys/{created['apiKeyId']}").status == 204
    assert client.get("/auth/api-keys").json["items"][0]["status"] == "Revoked"
    error_of(client.request("DELETE", "/auth/api-keys/key-000000000000"), 404, "RESOURCE_NOT_FOUND")


def test_expired_unknown_and_malformed_keys_are_401(client: ApiClient, tenant: str) -> None:
    created = issue(client, [READ_PROVIDERS], expiresAt="2099-01-01T00:00:00Z")
    past = (datetime.now(UTC) - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    api_keys.TABLE.update(tenant, created["apiKeyId"], {"expiresAt": past})
    for key in (created["apiKey"], "ipk_" + "A" * 43, "not-a-key", "ipk_" + "x" * 500):
        error = error_of(get_as_key(client, "/integrations/providers", key), 401, "AUTHENTICATION_FAILED")
        assert key not in error["message"]
    assert client.get("/auth/api-keys").json["items"][0]["status"] == "Expired"


def test_bad_requests_are_400(client: ApiClient) -> None:
    unknown = client.post("/auth/api-keys", {"name": "x", "scopes": ["root"]})
    assert "scopes" in fields_of(error_of(unknown, 400, "VALIDATION_ERROR"))
    past = client.post("/auth/api-keys", {"name": "x", "scopes": [READ_PROVIDERS], "expiresAt": "2001-01-01T00:00:00Z"})
    assert "expiresAt" in fields_of(error_of(past, 400, "VALIDATION_ERROR"))
    naive = client.post("/auth/api-keys", {"name": "x", "scopes": [READ_PROVIDERS], "expiresAt": "2099-01-01T00:00:00"})
    error_of(naive, 400, "VALIDATION_ERROR")
    error_of(client.post("/auth/api-keys", {"name": "", "scopes": []}), 400, "VALIDATION_ERROR")


def test_listing_pages_with_a_cursor(client: ApiClient) -> None:
    ids = {issue(client, [READ_PROVIDERS])["apiKeyId"] for _ in range(3)}
    first = client.get("/auth/api-keys?limit=2").json
    second = client.get(f"/auth/api-keys?limit=2&cursor={first['nextCursor']}").json
    assert {k["apiKeyId"] for k in first["items"] + second["items"]} == ids
