"""The 004 envelope without ``X-CS-Connection``: a bearer token lets the provider alone name the connection."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from chalicelib.connections import store as connection_store
from chalicelib.inbound import lookup
from tests.api.expect import error_of
from tests.inbound import signers
from tests.inbound.conftest import Hook, json_bytes
from tests.support.api_client import ApiClient, Reply

MERGED_PR = {"action": "closed", "number": 7, "pull_request": {"merged": True, "title": "Ship it"}}


def envelope_delivery(client: ApiClient, secret: str, provider: str = "github", token: str | None = None) -> Reply:
    """The seed's example: ``X-CS-Provider`` and the signature, no connection named."""
    envelope = json_bytes({"providerDeliveryId": str(uuid.uuid4()), "eventName": "pull_request", "payload": MERGED_PR})
    headers = {"X-CS-Provider": provider, "Content-Type": "application/json", **signers.github(secret, envelope)}
    return client.request("POST", "/webhooks/deliveries", body=envelope, headers=headers, token=token)


def test_the_tenants_one_active_connection_of_the_provider_takes_it(
    client: ApiClient, connect: Callable[..., Hook]
) -> None:
    connect("prov-stripe")  # another provider's connection is no candidate
    hook = connect("prov-github")
    for provider in ("github", "prov-github"):
        accepted = envelope_delivery(client, hook.secret, provider)
        assert accepted.status == 202, accepted.body
        delivery = client.get(f"/webhooks/deliveries/{accepted.json['deliveryId']}").json
        assert delivery["connectionId"] == hook.connection_id
    forged = envelope_delivery(client, "whsec_guess")
    error_of(forged, 401, "AUTHENTICATION_FAILED")  # the signature is still what authenticates the delivery


def test_several_active_connections_are_a_400_naming_them(client: ApiClient, connect: Callable[..., Hook]) -> None:
    first, second = connect("prov-github"), connect("prov-github")
    error = error_of(envelope_delivery(client, first.secret), 400, "VALIDATION_ERROR")
    assert {d["field"] for d in error["details"]} == {"X-CS-Connection"}
    named = " ".join(d["message"] for d in error["details"])
    assert first.connection_id in named and second.connection_id in named

    tenant = client.get(f"/integrations/connections/{second.connection_id}").json["tenantId"]
    connection_store.TABLE.update(tenant, second.connection_id, {"status": "Inactive"})
    lookup.forget_connection(second.connection_id)
    accepted = envelope_delivery(client, first.secret)  # only Active connections are candidates
    assert accepted.status == 202, accepted.body
    assert client.get(f"/webhooks/deliveries/{accepted.json['deliveryId']}").json["connectionId"] == first.connection_id


def test_no_active_connection_of_the_provider_is_404(client: ApiClient, connect: Callable[..., Hook]) -> None:
    connect("prov-stripe")
    error_of(envelope_delivery(client, "whsec_any"), 404, "RESOURCE_NOT_FOUND")


def test_another_tenants_connection_is_never_a_candidate(
    client: ApiClient, connect: Callable[..., Hook], issuer: Any
) -> None:
    hook = connect("prov-github")
    other = ApiClient(client._api, issuer.token(f"tenant-{uuid.uuid4().hex[:8]}"))
    error_of(envelope_delivery(other, hook.secret), 404, "RESOURCE_NOT_FOUND")


def test_without_a_token_the_connection_must_be_named(client: ApiClient, connect: Callable[..., Hook]) -> None:
    hook = connect("prov-github")
    error = error_of(envelope_delivery(client, hook.secret, token=""), 400, "VALIDATION_ERROR")
    assert [d["field"] for d in error["details"]] == ["X-CS-Connection"]


def test_a_token_without_the_ingest_scope_is_403(
    client: ApiClient, connect: Callable[..., Hook], issuer: Any, tenant: str
) -> None:
    hook = connect("prov-github")
    reader = ApiClient(client._api, issuer.token(tenant, ["webhooks.deliveries.read"]))
    error_of(envelope_delivery(reader, hook.secret), 403, "AUTHORIZATION_DENIED")


def test_at_most_twenty_candidates_are_named(client: ApiClient, tenant: str) -> None:
    from chalicelib.core import aws
    from chalicelib.core.dynamo import serialize

    for i in range(25):
        item = {"tenantId": tenant, "connectionId": f"conn-{i:03d}", "status": "Active", "providerId": "prov-github"}
        aws.dynamodb().put_item(TableName=connection_store.TABLE.name, Item=serialize(item))
    error = error_of(envelope_delivery(client, "whsec_any"), 400, "VALIDATION_ERROR")
    assert len(error["details"]) == 20 and "first 20" in error["message"]
