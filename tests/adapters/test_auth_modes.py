"""Each auth mode as the fake vendor checks it, including the OAuth2 token cache and its refresh on 401."""

from __future__ import annotations

import pytest

from chalicelib.adapters import generic_http
from chalicelib.adapters.auth import Credential
from chalicelib.adapters.base import ExecutionContext
from chalicelib.adapters.errors import ConfigurationError, VendorUnauthorized
from chalicelib.providers.models import AuthModel
from tests.support.fake_vendor import FakeVendor

GET = {"method": "GET", "path": "/things"}


def run(vendor: FakeVendor, credential: Credential, configuration: dict[str, object] | None = None) -> object:
    ctx = ExecutionContext(base_url=vendor.url, configuration=dict(configuration or {}), timeout=5.0)
    return generic_http.ADAPTER.execute("Request", GET, credential, ctx)


def test_bearer_token(vendor: FakeVendor) -> None:
    vendor.expect_bearer("b-123456")
    run(vendor, Credential(AuthModel.BEARER_TOKEN, {"token": "b-123456"}))
    with pytest.raises(VendorUnauthorized):
        run(vendor, Credential(AuthModel.BEARER_TOKEN, {"token": "wrong-token"}))


def test_api_key_in_the_default_header(vendor: FakeVendor) -> None:
    vendor.expect_api_key("k-123456")
    run(vendor, Credential(AuthModel.API_KEY, {"apiKey": "k-123456"}))
    assert vendor.requests[-1].headers["x-api-key"] == "k-123456"
    assert "authorization" not in vendor.requests[-1].headers


def test_api_key_in_a_configured_header(vendor: FakeVendor) -> None:
    vendor.expect_api_key("k-123456", header="X-Vendor-Key")
    run(vendor, Credential(AuthModel.API_KEY, {"apiKey": "k-123456"}), {"apiKeyHeader": "X-Vendor-Key"})
    with pytest.raises(VendorUnauthorized):
        run(vendor, Credential(AuthModel.API_KEY, {"apiKey": "k-123456"}))


def test_api_key_in_the_query(vendor: FakeVendor) -> None:
    vendor.expect_api_key("k-123456", query="api_key")
    run(vendor, Credential(AuthModel.API_KEY, {"apiKey": "k-123456"}), {"apiKeyQueryParam": "api_key"})
    assert vendor.requests[-1].query == {"api_key": "k-123456"}


def test_basic(vendor: FakeVendor) -> None:
    vendor.expect_basic("user", "pa55word")
    run(vendor, Credential(AuthModel.BASIC, {"username": "user", "password": "pa55word"}))
    with pytest.raises(VendorUnauthorized):
        run(vendor, Credential(AuthModel.BASIC, {"username": "user", "password": "nope"}))


def oauth(vendor: FakeVendor, secret: str = "cs-secret", client_id: str = "client-1") -> Credential:
    values = {"clientId": client_id, "clientSecret": secret, "tokenUrl": f"{vendor.url}/oauth/token", "scope": "a b"}
    return Credential(AuthModel.OAUTH2_CLIENT_CREDENTIALS, values)


def test_oauth2_client_credentials_token_is_fetched_once_and_cached(vendor: FakeVendor) -> None:
    client_id = f"client-{id(vendor)}"  # a fresh cache entry: tokens are cached per process
    vendor.expect_oauth_client(client_id, "cs-secret")
    run(vendor, oauth(vendor, client_id=client_id))
    run(vendor, oauth(vendor, client_id=client_id))
    assert vendor.token_requests == 1
    token_request = vendor.requests[0]
    assert token_request.form() == {"grant_type": "client_credentials", "scope": "a b"}
    used = {r.headers["authorization"] for r in vendor.api_requests()}
    assert len(used) == 1 and used.pop().startswith("Bearer at-")


def test_oauth2_token_expired_at_the_vendor_is_refreshed_once_on_401(vendor: FakeVendor) -> None:
    client_id = f"client-expiry-{id(vendor)}"
    vendor.expect_oauth_client(client_id, "cs-secret")
    run(vendor, oauth(vendor, client_id=client_id))
    vendor.expire_tokens()
    run(vendor, oauth(vendor, client_id=client_id))
    assert vendor.token_requests == 2
    statuses = [r.headers["authorization"] for r in vendor.api_requests()]
    assert len(statuses) == 3 and statuses[1] != statuses[2]


def test_oauth2_token_near_expiry_is_not_reused(vendor: FakeVendor) -> None:
    client_id = f"client-short-{id(vendor)}"
    vendor.expect_oauth_client(client_id, "cs-secret", expires_in=10)  # inside the 30 s safety margin
    run(vendor, oauth(vendor, client_id=client_id))
    run(vendor, oauth(vendor, client_id=client_id))
    assert vendor.token_requests == 2


def test_oauth2_refused_client_is_unauthorized_and_needs_a_token_url(vendor: FakeVendor) -> None:
    vendor.expect_oauth_client("client-1", "cs-secret")
    with pytest.raises(VendorUnauthorized):
        run(vendor, oauth(vendor, secret="not-the-secret"))
    without_url = Credential(AuthModel.OAUTH2_CLIENT_CREDENTIALS, {"clientId": "c", "clientSecret": "s"})
    with pytest.raises(ConfigurationError):
        run(vendor, without_url)


def test_a_credential_missing_its_field_is_a_configuration_error(vendor: FakeVendor) -> None:
    with pytest.raises(ConfigurationError):
        run(vendor, Credential(AuthModel.BEARER_TOKEN, {"apiKey": "k"}))
