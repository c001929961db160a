"""A webhook secret no signature could use (a lone surrogate) is refused, and deliveries keep working."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

from chalicelib.credentials import vault
from tests.api.expect import error_of, fields_of
from tests.inbound import signers
from tests.inbound.conftest import Hook, post_delivery
from tests.support.api_client import ApiClient, Reply

UNUSABLE = "whsec_chosen-" + "\ud800"


def deliver(client: ApiClient, hook: Hook, body: bytes, secret: str) -> Reply:
    headers = {"X-GitHub-Event": "push", "X-GitHub-Delivery": str(uuid.uuid4()), **signers.github(secret, body)}
    return post_delivery(client, hook.connection_id, body, headers)


def test_changed_secret_with_a_lone_surrogate_is_refused_and_deliveries_still_verify(
    client: ApiClient, connect: Callable[..., Hook]
) -> None:
    hook = connect("prov-github")
    path = f"/integrations/connections/{hook.connection_id}/webhook-secret"
    change = client.request("PUT", path, json_body={"webhookSecret": UNUSABLE, "overlapSeconds": 0})
    error = error_of(change, 400, "VALIDATION_ERROR")
    assert fields_of(error) == {"webhookSecret"} and "whsec_chosen" not in json.dumps(error)
    assert deliver(client, hook, b'{"ref": "refs/heads/main"}', hook.secret).status == 202


def test_a_managed_secret_with_a_lone_surrogate_is_not_usable(
    client: ApiClient, tenant: str, connect: Callable[..., Hook]
) -> None:
    vault.store_new(tenant, "hooks/unusable", {"webhookSecret": UNUSABLE}, description="test")
    body = {
        "providerId": "prov-github",
        "displayName": "inbound",
        "credentials": {"token": "vendor-token"},
        "webhookSecretRef": "kv://hooks/unusable",
    }
    error = error_of(client.post("/integrations/connections", body), 422, "UNPROCESSABLE_ENTITY")
    assert fields_of(error) == {"webhookSecretRef"}
    assert client.get("/integrations/connections").json["items"] == []
