"""Establishing connections: credential shapes per auth mode, references, providers, URL policy."""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

import pytest

from chalicelib.core import aws
from chalicelib.core.config import get_settings
from chalicelib.credentials import vault
from infra.local.dev_issuer import DevIssuer
from infra.local.gateway import LocalApi
from tests.api.expect import client_for, error_of, fields_of
from tests.support.api_client import ApiClient

CONNECTIONS = "/integrations/connections"
ESTABLISHED_FIELDS = {
    "connectionId",
    "status",
    "providerId",
    "health",
    "establishedAt",
    "credentialRef",
    "credentialId",
    "traceId",
}
# Present when the provider signs inbound webhooks with a shared secret (the connection's inbound endpoint).
WEBHOOK_FIELDS = {"webhookUrl", "webhookSecretRef", "webhookSecret"}


def connection(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "projectId": "proj-booking-saas",
        "providerId": "prov-github",
        "displayName": "Booking SaaS GitHub",
        "credentials": {"token": f"ghp_{secrets.token_hex(8)}"},
        "configuration": {"organization": "connectsoft-booking", "defaultBranch": "main"},
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def stored_secret(tenant: str, connection_id: str) -> dict[str, Any]:
    name = f"{get_settings().resource_prefix}/{tenant}/connections/{connection_id}"
    value: dict[str, Any] = json.loads(aws.secretsmanager().get_secret_value(SecretId=name)["SecretString"])
    return value


CREDENTIALS_BY_MODE = [
    ("prov-github", None, {"token": "ghp_bearer_value"}, "BearerToken"),
    ("prov-generic-http", "ApiKey", {"apiKey": "key_value"}, "ApiKey"),
    ("prov-jira", None, {"username": "bot@acme.example", "password": "basic_pw_value"}, "Basic"),
    ("prov-jira", "Basic", {"username": "bot", "password": "basic_pw_value"}, "Basic"),
    ("prov-stripe", "OAuth2ClientCredentials", {"clientId": "cid", "clientSecret": "oauth_secret_value"}, "Oauth2"),
    (
        "prov-slack",
        "OAuth2ClientCredentials",
        {
            "clientId": "cid",
            "clientSecret": "oauth_secret_value",
            "tokenUrl": "https://auth.vendor.example/oauth/token",
            "scope": "chat:write",
        },
        "Oauth2",
    ),
]


@pytest.mark.parametrize(("provider_id", "auth_mode", "credentials", "label"), CREDENTIALS_BY_MODE)
def test_inline_credentials_for_each_auth_mode(
    client: ApiClient, tenant: str, provider_id: str, auth_mode: str | None, credentials: dict[str, str], label: str
) -> None:
    # GitHub's configuration keys are GitHub's: other providers refuse them (chalicelib.providers.configuration).
    configuration: dict[str, Any] | None = None if provider_id == "prov-github" else {}
    body = connection(providerId=provider_id, authMode=auth_mode, credentials=credentials)
    reply = client.post(CONNECTIONS, body | ({"configuration": configuration} if configuration is not None else {}))
    assert reply.status == 201, reply.body
    created = reply.json
    assert ESTABLISHED_FIELDS <= set(created) <= ESTABLISHED_FIELDS | WEBHOOK_FIELDS
    if provider_id == "prov-jira":  # signs nothing, so exactly the 004 fields
        assert set(created) == ESTABLISHED_FIELDS
    connection_id = created["connectionId"]
    assert re.fullmatch(r"conn-[0-9a-f]{12}", connection_id)
    assert created["status"] == "Active"
    assert created["providerId"] == provider_id
    assert created["health"] in {"Healthy", "Unknown"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", created["establishedAt"])
    assert created["credentialRef"] == f"kv://connections/{connection_id}"
    assert created["credentialId"] == vault.credential_id(tenant, f"connections/{connection_id}")
    assert created["traceId"] == reply.header("X-Trace-Id")
    assert reply.header("Location") == f"{CONNECTIONS}/{connection_id}"
    assert stored_secret(tenant, connection_id) == credentials
    got = client.get(f"{CONNECTIONS}/{connection_id}").json
    assert got["authMode"] == (auth_mode or {"prov-jira": "Basic", "prov-github": "BearerToken"}[provider_id])


@pytest.mark.parametrize(
    ("auth_mode", "credentials"),
    [
        ("ApiKey", {"token": "x"}),
        ("BearerToken", {"apiKey": "x"}),
        ("Basic", {"username": "u"}),
        ("Basic", {"token": "x"}),
        ("OAuth2ClientCredentials", {"clientId": "c"}),
        ("OAuth2ClientCredentials", {"clientId": "c", "clientSecret": "s", "tokenUrl": "not a url"}),
        ("BearerToken", {"token": ""}),
        ("BearerToken", {"token": 42}),
        ("BearerToken", {"token": "x", "extra": "y"}),
        ("BearerToken", "just-a-string"),
    ],
)
def test_credentials_that_do_not_fit_the_mode_are_400(client: ApiClient, auth_mode: str, credentials: Any) -> None:
    error = error_of(
        client.post(CONNECTIONS, connection(authMode=auth_mode, credentials=credentials)), 400, "VALIDATION_ERROR"
    )
    assert all(field.startswith("credentials") for field in fields_of(error)), error


@pytest.mark.parametrize("extra", [{"credentialRef": "kv://a/b"}, {"credentials": None}])
def test_exactly_one_credential_source(client: ApiClient, extra: dict[str, Any]) -> None:
    error = error_of(client.post(CONNECTIONS, connection(**extra)), 400, "VALIDATION_ERROR")
    if "credentialRef" not in extra:  # GitHub without any credential: named, as before AwsIam existed
        assert fields_of(error) == {"credentials"}, error


def test_credential_ref_to_own_secret(client: ApiClient, tenant: str) -> None:
    path = "factory-integration/github-booking"
    aws.secretsmanager().create_secret(Name=vault.secret_name(tenant, path), SecretString='{"token": "t"}')
    reply = client.post(CONNECTIONS, connection(credentials=None, credentialRef=f"kv://{path}"))
    assert reply.status == 201, reply.body
    assert reply.json["credentialRef"] == f"kv://{path}"
    assert reply.json["credentialId"] == vault.credential_id(tenant, path)


def test_credential_ref_to_missing_secret_is_422(client: ApiClient) -> None:
    reply = client.post(CONNECTIONS, connection(credentials=None, credentialRef="kv://nothing/here"))
    assert fields_of(error_of(reply, 422, "UNPROCESSABLE_ENTITY")) == {"credentialRef"}


def test_credential_ref_cannot_reach_another_tenant(client: ApiClient, tenant: str) -> None:
    other = f"tenant-{secrets.token_hex(4)}"
    aws.secretsmanager().create_secret(Name=vault.secret_name(other, "shared/key"), SecretString='{"token": "t"}')
    for ref in ("kv://shared/key", f"kv://{other}/shared/key"):
        error_of(client.post(CONNECTIONS, connection(credentials=None, credentialRef=ref)), 422, "UNPROCESSABLE_ENTITY")
    for ref in (f"kv://../{other}/shared/key", "https://elsewhere/key", "kv://", "kv:///abs"):
        reply = client.post(CONNECTIONS, connection(credentials=None, credentialRef=ref))
        assert fields_of(error_of(reply, 400, "VALIDATION_ERROR")) == {"credentialRef"}


def test_unknown_provider_is_422(client: ApiClient) -> None:
    error = error_of(client.post(CONNECTIONS, connection(providerId="prov-nope")), 422, "UNPROCESSABLE_ENTITY")
    assert "prov-nope" in error["message"]
    assert fields_of(error) == {"providerId"}


def test_own_registered_provider_works_only_for_its_tenant(
    client: ApiClient, local_api: LocalApi, issuer: DevIssuer
) -> None:
    key = f"acme-{secrets.token_hex(3)}"
    registered = client.post(
        "/integrations/providers",
        {"key": key, "displayName": "Acme", "authModel": "ApiKey", "baseUrl": "https://api.acme.example"},
    )
    assert registered.status == 201
    body = connection(providerId=f"prov-{key}", credentials={"apiKey": "acme-key"})
    created = client.post(CONNECTIONS, body)
    assert created.status == 201, created.body
    assert client.get(f"{CONNECTIONS}/{created.json['connectionId']}").json["authMode"] == "ApiKey"
    error_of(client_for(local_api, issuer).post(CONNECTIONS, body), 422, "UNPROCESSABLE_ENTITY")


@pytest.mark.parametrize("base_url", ["http://127.0.0.1:8080", "http://localhost:9000/api", "https://api.github.com"])
def test_local_base_url_is_allowed_on_the_dev_stage(client: ApiClient, base_url: str) -> None:
    reply = client.post(CONNECTIONS, connection(configuration={"baseUrl": base_url}))
    assert reply.status == 201, reply.body


@pytest.mark.parametrize(
    "base_url",
    [
        "http://169.254.169.254/latest/meta-data",
        "http://[fe80::1]/",
        "http://[::ffff:169.254.169.254]/",
        "http://10.0.0.5/",
        "http://100.64.1.1/",
        "gopher://127.0.0.1/",
        "http://[::1",
        "http://127.0.0.1:99999/",
        42,
    ],
)
def test_unsafe_base_url_is_400(client: ApiClient, base_url: object) -> None:
    error = error_of(client.post(CONNECTIONS, connection(configuration={"baseUrl": base_url})), 400, "VALIDATION_ERROR")
    assert fields_of(error) == {"configuration.baseUrl"}


@pytest.mark.parametrize(
    ("configuration", "field"),
    [
        ({"n": 10**40}, "configuration.n"),
        ({"n": 1e200}, "configuration.n"),
        ({"s": "x" * 70_000}, "configuration"),
        ({str(i): i for i in range(51)}, "configuration"),
        ({"": 1}, "configuration"),
        ("flat", "configuration"),
        ([1], "configuration"),
    ],
)
def test_configuration_dynamodb_cannot_store_is_400(client: ApiClient, configuration: object, field: str) -> None:
    error = error_of(client.post(CONNECTIONS, connection(configuration=configuration)), 400, "VALIDATION_ERROR")
    assert fields_of(error) == {field}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"providerId": None}, "providerId"),
        ({"displayName": None}, "displayName"),
        ({"displayName": ""}, "displayName"),
        ({"authMode": "Kerberos"}, "authMode"),
        ({"projectId": 7}, "projectId"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_invalid_fields_are_named(client: ApiClient, overrides: dict[str, Any], field: str) -> None:
    body = connection()
    for name, value in overrides.items():
        if value is None:
            body.pop(name)
        else:
            body[name] = value
    assert field in fields_of(error_of(client.post(CONNECTIONS, body), 400, "VALIDATION_ERROR"))
