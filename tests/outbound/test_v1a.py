"""Standard Webhooks v1a (ed25519): keys in Secrets Manager, the public key published, rotation overlap."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from chalicelib.core import aws
from chalicelib.core.config import get_settings
from chalicelib.credentials import vault
from tests.outbound.conftest import QueueDriver
from tests.outbound.helpers import publish, subscribe
from tests.support.api_client import ApiClient
from tests.support.receiver import Received, serve_receiver

URL = "http://127.0.0.1:9/hooks"


def verify_with_cryptography(public_key: str, got: Received) -> int:
    """How many of the message's v1a signatures verify under ``public_key``."""
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key.removeprefix("whpk_")))
    signed = f"{got.headers['webhook-id']}.{got.headers['webhook-timestamp']}.".encode() + got.raw
    verified = 0
    for entry in got.headers["webhook-signature"].split(" "):
        try:
            key.verify(base64.b64decode(entry.removeprefix("v1a,")), signed)
        except InvalidSignature:
            continue
        verified += 1
    return verified


def test_a_v1a_subscription_publishes_its_key_and_keeps_the_private_half_in_secrets_manager(
    client: ApiClient, tenant: str
) -> None:
    created = client.post(
        "/webhooks/subscriptions", {"eventTypes": ["*"], "endpointUrl": URL, "signatureScheme": "v1a"}
    ).json
    assert created["signatureScheme"] == "v1a" and "signingSecret" not in created
    public = client.get(f"/webhooks/subscriptions/{created['subscriptionId']}/public-key")
    assert public.status == 200
    assert public.json["publicKey"] == created["publicKey"] and public.json["signatureScheme"] == "v1a"
    assert public.json["publicKey"].startswith("whpk_")
    assert len(base64.b64decode(public.json["publicKey"][5:])) == 32
    stored = vault.read_text(tenant, vault.path_from_ref(created["signingSecretRef"]))
    private = json.loads(stored)["signingSecret"]
    assert private.startswith("whsk_")
    raw_item = aws.dynamodb().get_item(
        TableName=get_settings().table_name("subscriptions"),
        Key={"tenantId": {"S": tenant}, "subscriptionId": {"S": created["subscriptionId"]}},
    )["Item"]
    assert private not in json.dumps(raw_item)


def test_a_v1_subscription_has_no_public_key_and_v1a_takes_no_secret_ref(client: ApiClient) -> None:
    plain = client.post("/webhooks/subscriptions", {"eventTypes": ["*"], "endpointUrl": URL}).json
    none = client.get(f"/webhooks/subscriptions/{plain['subscriptionId']}/public-key").json
    assert none["signatureScheme"] == "v1" and none["keys"] == [] and "publicKey" not in none
    assert "publicKey" not in plain
    refused = client.post(
        "/webhooks/subscriptions",
        {"eventTypes": ["*"], "endpointUrl": URL, "signatureScheme": "v1a", "signingSecretRef": "kv://a/b"},
    )
    assert refused.status == 400 and refused.json["error"]["details"][0]["field"] == "signingSecretRef"
    unknown = client.post("/webhooks/subscriptions", {"eventTypes": ["*"], "endpointUrl": URL, "signatureScheme": "v2"})
    assert unknown.status == 400


@pytest.mark.parametrize("overlap", [True, False])
def test_v1a_deliveries_verify_independently_through_a_rotation(
    client: ApiClient, driver: QueueDriver, overlap: bool
) -> None:
    with serve_receiver() as receiver:
        sub = subscribe(client, receiver, ["*"], signatureScheme="v1a")
        old_key = sub["publicKey"]
        receiver.trust_keys(old_key)
        publish(client, "Before", {"n": 1})
        driver.drain()
        [first] = receiver.accepted()
        assert first.headers["webhook-signature"].startswith("v1a,") and "x-signature-256" not in first.headers
        assert verify_with_cryptography(old_key, first) == 1

        path = f"/webhooks/subscriptions/{sub['subscriptionId']}"
        rotated = client.post(path + "/rotate-secret", None if overlap else {"overlapSeconds": 0}).json
        new_key = rotated["publicKey"]
        assert new_key.startswith("whpk_") and new_key != old_key and rotated.get("signingSecret") is None
        keys = client.get(path + "/public-key").json
        assert keys["publicKey"] == new_key
        assert [k["publicKey"] for k in keys["keys"]] == ([old_key, new_key] if overlap else [new_key])

        receiver.trust_keys(new_key, old_key)
        publish(client, "After", {"n": 2})
        driver.drain()
        assert receiver.verification_errors == []
        latest = receiver.accepted()[-1]
        assert len(latest.headers["webhook-signature"].split(" ")) == (2 if overlap else 1)
        assert verify_with_cryptography(new_key, latest) == 1
        assert verify_with_cryptography(old_key, latest) == (1 if overlap else 0)
