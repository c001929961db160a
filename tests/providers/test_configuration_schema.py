"""Connection configuration against its provider's JSON Schema: unknown or ill-typed keys are a 400 naming it."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.core.errors import ValidationFailed
from chalicelib.providers import schema
from tests.api.expect import error_of, fields_of
from tests.support.api_client import ApiClient

CONNECTIONS = "/integrations/connections"
PROVIDERS = "/integrations/providers"


def connection(provider_id: str, configuration: dict[str, Any]) -> dict[str, Any]:
    return {
        "providerId": provider_id,
        "displayName": "schema",
        "credentials": {"token": "tok_x"},
        "configuration": configuration,
    }


@pytest.mark.parametrize(
    ("provider_id", "configuration", "field"),
    [
        ("prov-github", {"organisation": "acme"}, "configuration.organisation"),
        ("prov-github", {"defaultBranch": 3}, "configuration.defaultBranch"),
        ("prov-github", {"rateLimit": {"requestsPerSecond": 0}}, "configuration.rateLimit.requestsPerSecond"),
        ("prov-github", {"rateLimit": {"requestsPerSecond": 1, "brust": 2}}, "configuration.rateLimit.brust"),
        ("prov-github", {"rateLimit": {"burst": 2}}, "configuration.rateLimit.requestsPerSecond"),
        ("prov-generic-http", {"rateLimit": "fast"}, "configuration.rateLimit"),
        ("prov-generic-http", {"baseUrl": 7}, "configuration.baseUrl"),
    ],
)
def test_unknown_or_ill_typed_keys_are_a_400_naming_the_field(
    client: ApiClient, provider_id: str, configuration: dict[str, Any], field: str
) -> None:
    error = error_of(client.post(CONNECTIONS, connection(provider_id, configuration)), 400, "VALIDATION_ERROR")
    assert field in fields_of(error), error


def test_known_keys_and_a_rate_limit_are_accepted(client: ApiClient) -> None:
    configuration = {"organization": "acme", "rateLimit": {"requestsPerSecond": 2.5, "burst": 5}}
    reply = client.post(CONNECTIONS, connection("prov-github", configuration))
    assert reply.status == 201, reply.body
    path = f"{CONNECTIONS}/{reply.json['connectionId']}"
    refused = client.request("PATCH", path, json_body={"configuration": {"organization": ["acme"]}})
    assert "configuration.organization" in fields_of(error_of(refused, 400, "VALIDATION_ERROR"))
    assert client.get(path).json["configuration"] == configuration


def test_a_registered_provider_carries_its_own_schema(client: ApiClient) -> None:
    registered = client.post(
        PROVIDERS,
        {
            "key": "acme-crm",
            "displayName": "Acme CRM",
            "authModel": "BearerToken",
            "baseUrl": "https://api.acme.example",
            "configurationSchema": {
                "type": "object",
                "properties": {"region": {"type": "string", "enum": ["eu", "us"]}},
                "required": ["region"],
            },
        },
    )
    assert registered.status == 201, registered.body
    provider_id = registered.json["providerId"]
    for configuration, field in (({}, "configuration.region"), ({"region": "mars"}, "configuration.region")):
        error = error_of(client.post(CONNECTIONS, connection(provider_id, configuration)), 400, "VALIDATION_ERROR")
        assert field in fields_of(error)
    extra = {"region": "eu", "colour": "red"}
    refused = client.post(CONNECTIONS, connection(provider_id, extra))
    assert "configuration.colour" in fields_of(error_of(refused, 400, "VALIDATION_ERROR"))
    ok = client.post(CONNECTIONS, connection(provider_id, {"region": "eu", "rateLimit": {"requestsPerSecond": 1}}))
    assert ok.status == 201, ok.body


def test_a_schema_with_an_unsupported_keyword_is_refused_at_registration(client: ApiClient) -> None:
    body = {
        "key": "acme-pattern",
        "displayName": "Acme",
        "authModel": "BearerToken",
        "baseUrl": "https://api.acme.example",
        "configurationSchema": {"type": "object", "properties": {"id": {"type": "string", "pattern": "^a"}}},
    }
    error = error_of(client.post(PROVIDERS, body), 400, "VALIDATION_ERROR")
    assert "configurationSchema.properties.id.pattern" in fields_of(error)


def test_the_validator_reports_every_offending_field() -> None:
    shape = {
        "type": "object",
        "properties": {"tags": {"type": "array", "items": {"type": "string"}}, "n": {"type": "integer"}},
        "additionalProperties": False,
    }
    with pytest.raises(ValidationFailed) as raised:
        schema.validate(shape, {"tags": ["a", 2], "n": True, "x": 1}, "configuration")
    assert [d.field for d in raised.value.details] == ["configuration.tags[1]", "configuration.n", "configuration.x"]
