"""Inbound fixtures: connections with webhook secrets and unsigned senders."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.api_client import ApiClient, Reply

CREDENTIALS = {"ApiKey": {"apiKey": "k-123"}, "Basic": {"username": "u", "password": "p"}}


@dataclass
class Hook:
    connection_id: str
    secret: str
    created: dict[str, Any]


def post_delivery(
    client: ApiClient, connection_id: str, body: bytes, headers: dict[str, str], content_type: str = "application/json"
) -> Reply:
    """A vendor's POST: no bearer token, the body bytes exactly as given."""
    return client.request(
        "POST",
        f"/webhooks/deliveries/{connection_id}",
        body=body,
        headers={"Content-Type": content_type, **headers},
        token="",
    )


@pytest.fixture
def connect(client: ApiClient) -> Callable[..., Hook]:
    def make(provider_id: str = "prov-github", **extra: Any) -> Hook:
        provider = client.get(f"/integrations/providers/{provider_id}").json
        body = {"providerId": provider_id, "displayName": "inbound", **extra}
        if provider["authModel"] != "AwsIam":  # the platform's role: nothing to give
            body["credentials"] = CREDENTIALS.get(provider["authModel"], {"token": "vendor-token"})
        created = client.post("/integrations/connections", body)
        assert created.status == 201, created.body
        secret = created.json.get("webhookSecret") or extra.get("webhookSecret") or ""
        return Hook(created.json["connectionId"], secret, created.json)

    return make


def events_of(tenant: str) -> list[dict[str, Any]]:
    """The tenant's events recorded from inbound deliveries, as the API reads them (``data`` decompressed)."""
    from chalicelib.events import store

    items = [i for i in store.TABLE.query(tenant, limit=100, cursor=None).items if i["source"].startswith("inbound")]
    return [store.get(tenant, item["eventId"]).model_dump(by_alias=True) for item in items]  # type: ignore[union-attr]


def json_bytes(document: Any) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()
