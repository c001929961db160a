"""Provider catalog: built-ins for everyone, registrations private to their tenant."""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest

from chalicelib.providers.catalog import BUILTIN_PROVIDERS
from infra.local.dev_issuer import DevIssuer
from infra.local.gateway import LocalApi
from tests.api.expect import client_for, error_of, fields_of
from tests.support.api_client import ApiClient

PROVIDERS = "/integrations/providers"
NAMED_BUILT_INS = {"prov-github", "prov-slack", "prov-stripe", "prov-twilio-sms", "prov-jira", "prov-generic-http"}
BUILT_INS = set(BUILTIN_PROVIDERS)


def test_catalog_has_the_named_built_ins() -> None:
    assert NAMED_BUILT_INS <= BUILT_INS


def registration(key: str | None = None, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "key": key or f"acme-{secrets.token_hex(3)}",
        "displayName": "Acme CRM",
        "category": "Crm",
        "authModel": "ApiKey",
        "apiClient": "ConnectSoft.Crm.Acme",
        "capabilities": ["contacts.read", "contacts.write"],
        "baseUrl": "https://api.acme.example",
    }
    body.update(overrides)
    return body


def all_pages(client: ApiClient, limit: int) -> list[list[dict[str, Any]]]:
    pages: list[list[dict[str, Any]]] = []
    cursor = None
    while True:
        reply = client.get(f"{PROVIDERS}?limit={limit}" + (f"&cursor={cursor}" if cursor else ""))
        assert reply.status == 200, reply.body
        pages.append(reply.json["items"])
        cursor = reply.json.get("nextCursor")
        if not cursor:
            return pages


def test_register_answers_the_004_shape(client: ApiClient) -> None:
    body = registration("twilio-sms-eu")
    reply = client.post(PROVIDERS, body)
    assert reply.status == 201, reply.body
    created = reply.json
    assert set(created) == {"providerId", "status", "apiClientId", "registeredAt", "traceId"}
    assert created["providerId"] == "prov-twilio-sms-eu"
    assert created["status"] == "Registered"
    assert created["apiClientId"] == "client-twilio-sms-eu-v1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", created["registeredAt"])
    assert created["traceId"] == reply.header("X-Trace-Id")
    assert reply.header("Location") == "/integrations/providers/prov-twilio-sms-eu"
    got = client.get("/integrations/providers/prov-twilio-sms-eu")
    assert got.status == 200
    assert got.json["builtIn"] is False
    assert got.json["category"] == "Crm" and got.json["authModel"] == "ApiKey"
    assert got.json["baseUrl"] == "https://api.acme.example"
    assert got.json["capabilities"] == body["capabilities"]


def test_duplicate_key_is_409(client: ApiClient) -> None:
    body = registration()
    assert client.post(PROVIDERS, body).status == 201
    error_of(client.post(PROVIDERS, body), 409, "DUPLICATE_RESOURCE")


@pytest.mark.parametrize("key", ["github", "generic-http"])
def test_built_in_key_is_409(client: ApiClient, key: str) -> None:
    error_of(client.post(PROVIDERS, registration(key)), 409, "DUPLICATE_RESOURCE")


def test_same_key_in_two_tenants_is_fine(client: ApiClient, local_api: LocalApi, issuer: DevIssuer) -> None:
    body = registration()
    assert client.post(PROVIDERS, body).status == 201
    assert client_for(local_api, issuer).post(PROVIDERS, body).status == 201


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"baseUrl": "https://169.254.169.254/latest"}, "baseUrl"),
        ({"baseUrl": "https://10.1.2.3"}, "baseUrl"),
        (
            {"webhookSignature": {"scheme": "jws", "jwksUrl": "https://169.254.169.254/keys"}},
            "webhookSignature.jwksUrl",
        ),
    ],
)
def test_unsafe_urls_are_refused_at_registration(client: ApiClient, overrides: dict[str, Any], field: str) -> None:
    error = error_of(client.post(PROVIDERS, registration(**overrides)), 400, "VALIDATION_ERROR")
    assert fields_of(error) == {field}


def test_list_shows_built_ins_and_own_registrations_only(
    client: ApiClient, local_api: LocalApi, issuer: DevIssuer
) -> None:
    mine = registration()
    theirs = registration()
    assert client.post(PROVIDERS, mine).status == 201
    assert client_for(local_api, issuer).post(PROVIDERS, theirs).status == 201
    ids = {item["providerId"] for page in all_pages(client, 100) for item in page}
    assert ids == BUILT_INS | {f"prov-{mine['key']}"}


def test_pagination_honours_limit_on_every_page_and_covers_everything_once(client: ApiClient) -> None:
    keys = [f"k{i}-{secrets.token_hex(2)}" for i in range(7)]
    for key in keys:
        assert client.post(PROVIDERS, registration(key)).status == 201
    pages = all_pages(client, 2)
    assert all(len(page) <= 2 for page in pages) and all(pages)  # the first page too (it held every built-in)
    seen = [item["providerId"] for page in pages for item in page]
    assert len(seen) == len(set(seen))
    assert set(seen) == BUILT_INS | {f"prov-{key}" for key in keys}
    assert seen[: len(BUILT_INS)] == [p for p in seen if p in BUILT_INS]  # built-ins first


@pytest.mark.parametrize("limit", [1, 3, len(BUILT_INS), len(BUILT_INS) + 1, 100])
def test_every_limit_walks_builtins_then_own_without_an_empty_page(client: ApiClient, limit: int) -> None:
    key = f"own-{secrets.token_hex(2)}"
    assert client.post(PROVIDERS, registration(key)).status == 201
    pages = all_pages(client, limit)
    assert all(0 < len(page) <= limit for page in pages)
    assert [p["providerId"] for page in pages for p in page][-1] == f"prov-{key}"


def test_a_forged_builtin_cursor_is_a_400(client: ApiClient) -> None:
    for cursor in ("builtin.x", "builtin.999", "builtin.-1"):
        error_of(client.get(f"{PROVIDERS}?cursor={cursor}"), 400, "VALIDATION_ERROR")


def test_get_built_in_and_own(client: ApiClient) -> None:
    github = client.get("/integrations/providers/prov-github")
    assert github.status == 200
    assert github.json["builtIn"] is True and github.json["key"] == "github"
    assert github.json["traceId"] == github.header("X-Trace-Id")
    body = registration()
    assert client.post(PROVIDERS, body).status == 201
    assert client.get(f"/integrations/providers/prov-{body['key']}").json["key"] == body["key"]


def test_other_tenants_provider_is_404(client: ApiClient, local_api: LocalApi, issuer: DevIssuer) -> None:
    body = registration()
    assert client.post(PROVIDERS, body).status == 201
    error_of(
        client_for(local_api, issuer).get(f"/integrations/providers/prov-{body['key']}"), 404, "RESOURCE_NOT_FOUND"
    )


def test_unknown_provider_is_404(client: ApiClient) -> None:
    error_of(client.get("/integrations/providers/prov-nothing-here"), 404, "RESOURCE_NOT_FOUND")
