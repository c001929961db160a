"""Scopes: each endpoint needs its own, from ``scope`` or ``scp``; a body tenantId must be the caller's."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.auth.principal import ALL_SCOPES
from infra.local.dev_issuer import DevIssuer
from tests.api.expect import error_of
from tests.support.api_client import ApiClient

PROVIDER = {"key": "acme", "displayName": "Acme", "authModel": "ApiKey", "baseUrl": "https://api.acme.example"}
CONNECTION = {"providerId": "prov-github", "displayName": "GH", "credentials": {"token": "tok-scope-test"}}

ENDPOINTS: list[tuple[str, str, str, Any]] = [
    ("POST", "/integrations/providers", "integration.providers.write", PROVIDER),
    ("GET", "/integrations/providers", "integration.providers.read", None),
    ("GET", "/integrations/providers/prov-github", "integration.providers.read", None),
    ("POST", "/integrations/connections", "integration.connections.write", CONNECTION),
    ("GET", "/integrations/connections", "integration.connections.read", None),
    ("GET", "/integrations/connections/conn-000000000000", "integration.connections.read", None),
    ("GET", "/integrations/runs/run-000000000000", "integration.runs.read", None),
]


@pytest.mark.parametrize(("method", "path", "scope", "body"), ENDPOINTS)
def test_missing_scope_is_403(
    client: ApiClient, issuer: DevIssuer, tenant: str, method: str, path: str, scope: str, body: Any
) -> None:
    token = issuer.token(tenant, [s for s in ALL_SCOPES if s != scope])
    error = error_of(client.request(method, path, json_body=body, token=token), 403, "AUTHORIZATION_DENIED")
    assert scope in error["message"]


@pytest.mark.parametrize(("method", "path", "scope", "body"), ENDPOINTS)
def test_the_one_scope_is_enough(
    client: ApiClient, issuer: DevIssuer, tenant: str, method: str, path: str, scope: str, body: Any
) -> None:
    reply = client.request(method, path, json_body=body, token=issuer.token(tenant, [scope]))
    assert reply.status in {200, 201, 404}, reply.body


def test_scp_list_claim_grants_scopes(client: ApiClient, issuer: DevIssuer, tenant: str) -> None:
    token = issuer.token(tenant, extra_claims={"scope": None, "scp": ["integration.providers.read"]})
    assert client.get("/integrations/providers", token=token).status == 200
    denied = client.get("/integrations/connections", token=token)
    error_of(denied, 403, "AUTHORIZATION_DENIED")


def test_scp_string_claim_grants_scopes(client: ApiClient, issuer: DevIssuer, tenant: str) -> None:
    token = issuer.token(tenant, extra_claims={"scope": None, "scp": "integration.providers.read events.read"})
    assert client.get("/integrations/providers", token=token).status == 200


@pytest.mark.parametrize(
    ("path", "body"), [("/integrations/providers", PROVIDER), ("/integrations/connections", CONNECTION)]
)
def test_body_tenant_must_be_the_callers(client: ApiClient, tenant: str, path: str, body: dict[str, Any]) -> None:
    error_of(client.post(path, {**body, "tenantId": "someone-else"}), 403, "AUTHORIZATION_DENIED")
    accepted = client.post(path, {**body, "tenantId": tenant})
    assert accepted.status == 201, accepted.body
