"""Bearer validation: every way a token can be wrong is a 401 in the error shape."""

from __future__ import annotations

from pathlib import Path

import pytest

from chalicelib.core.platform import PROBE_TENANT
from infra.local.dev_issuer import DevIssuer
from tests.api.expect import error_of
from tests.support.api_client import ApiClient

PROTECTED = "/integrations/providers"


def unauthenticated(client: ApiClient, authorization: str | None) -> dict[str, object]:
    headers = {} if authorization is None else {"Authorization": authorization}
    reply = client.get(PROTECTED, headers=headers, token="")
    return error_of(reply, 401, "AUTHENTICATION_FAILED")


def test_missing_authorization_is_401(client: ApiClient) -> None:
    unauthenticated(client, None)


@pytest.mark.parametrize("authorization", ["Basic dXNlcjpwYXNz", "Token abc", "Bearer", "Bearer   ", "abc"])
def test_non_bearer_scheme_is_401(client: ApiClient, authorization: str) -> None:
    unauthenticated(client, authorization)


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30.x", "t7dUYXA.aGk.eA"])
def test_garbage_token_is_401_saying_only_that_it_is_malformed(client: ApiClient, token: str) -> None:
    error = unauthenticated(client, f"Bearer {token}")
    assert error["message"] == "The bearer token is malformed."  # no decoder internals ("'utf-8' codec ...")


def test_scheme_is_case_insensitive(client: ApiClient) -> None:
    reply = client.get(PROTECTED, headers={"Authorization": f"bearer {client.token}"}, token="")
    assert reply.status == 200, reply.body


def test_expired_token_is_401(client: ApiClient, issuer: DevIssuer, tenant: str) -> None:
    error = unauthenticated(client, f"Bearer {issuer.token(tenant, ttl_seconds=-60)}")
    assert "expired" in str(error["message"]).lower()


def test_wrong_issuer_is_401(client: ApiClient, issuer: DevIssuer, tenant: str) -> None:
    unauthenticated(client, f"Bearer {issuer.token(tenant, issuer='https://evil.example')}")


def test_wrong_audience_is_401(client: ApiClient, issuer: DevIssuer, tenant: str) -> None:
    unauthenticated(client, f"Bearer {issuer.token(tenant, audience='another-api')}")


def test_token_signed_by_a_key_outside_the_jwks_is_401(client: ApiClient, tenant: str, tmp_path: Path) -> None:
    impostor = DevIssuer(tmp_path / "impostor.pem")
    unauthenticated(client, f"Bearer {impostor.token(tenant)}")


@pytest.mark.parametrize("tenant_claim", ["", None, ["tenant-a"], 42])
def test_token_without_a_tenant_is_401(client: ApiClient, issuer: DevIssuer, tenant_claim: object) -> None:
    token = issuer.token("placeholder", extra_claims={"tenant_id": tenant_claim})
    unauthenticated(client, f"Bearer {token}")


@pytest.mark.parametrize("tenant_claim", [PROBE_TENANT, ".platform"])
def test_a_dot_led_tenant_is_401_since_those_names_are_the_platforms(
    client: ApiClient, issuer: DevIssuer, tenant_claim: str
) -> None:
    """The access check's "no tenant" probe tag must be a value no tenant's session can carry."""
    error = unauthenticated(client, f"Bearer {issuer.token(tenant_claim)}")
    assert "is not a tenant id" in str(error["message"])


def test_error_never_leaks_the_token(client: ApiClient, issuer: DevIssuer, tenant: str) -> None:
    token = issuer.token(tenant, audience="another-api")
    reply = client.get(PROTECTED, headers={"Authorization": f"Bearer {token}"}, token="")
    assert token.encode() not in reply.body
