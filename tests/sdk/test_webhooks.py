"""The webhook helpers verify what the platform really sends, and refuse what it did not."""

from __future__ import annotations

import base64
import json
import os
import time

import pytest
from integration_platform import Client
from integration_platform.webhooks import WebhookVerificationError, verify, verify_v1a, verify_x_signature_256

from chalicelib.outbound import signing
from chalicelib.outbound.secrets import PRIVATE_PREFIX, private_key, public_key_of
from chalicelib.outbound.secrets import generate as new_secret
from tests.sdk.conftest import github_connection
from tests.support.fake_vendor import FakeVendor
from tests.support.receiver import Receiver
from tests.support.waiting import poll

BODY = json.dumps({"id": "evt-1", "type": "RunCompleted", "timestamp": "2026-01-01T00:00:00Z", "data": {}}).encode()


def test_a_received_delivery_verifies_with_both_helpers(client: Client, vendor: FakeVendor, receiver: Receiver) -> None:
    subscription = client.create_subscription({"eventTypes": ["RunCompleted"], "endpointUrl": receiver.url})
    secret = subscription["signingSecret"]
    assert secret
    receiver.trust(secret)
    connection = client.create_connection(github_connection(vendor))
    run = client.execute_operation(
        connection["connectionId"],
        "OpenPullRequest",
        {"owner": "o", "repo": "r", "title": "t", "head": "h", "base": "main"},
    )
    delivered = poll(lambda: receiver.accepted(), "the RunCompleted delivery")[0]

    event = verify(delivered.raw, delivered.headers, secret)
    assert event["type"] == "RunCompleted" and event["data"]["runId"] == run["runId"]
    assert verify_x_signature_256(delivered.raw, delivered.headers, secret)["id"] == event["id"]
    with pytest.raises(WebhookVerificationError):
        verify(delivered.raw + b" ", delivered.headers, secret)
    with pytest.raises(WebhookVerificationError):
        verify(delivered.raw, delivered.headers, new_secret())
    with pytest.raises(WebhookVerificationError):
        verify_x_signature_256(delivered.raw.replace(b"RunCompleted", b"RunFailed"), delivered.headers, secret)


def test_during_a_rotation_either_secret_verifies_the_standard_signature() -> None:
    old, new = new_secret(), new_secret()
    headers = signing.headers("evt-1", int(time.time()), BODY, [old, new])
    assert verify(BODY, headers, old)["id"] == "evt-1"
    assert verify(BODY, headers, new)["id"] == "evt-1"
    assert verify_x_signature_256(BODY, headers, [old, new])["id"] == "evt-1"


@pytest.mark.parametrize("skew", [-301, 301])
def test_a_timestamp_outside_the_tolerance_is_refused(skew: int) -> None:
    secret, now = new_secret(), time.time()
    headers = signing.headers("evt-1", int(now) + skew, BODY, [secret])
    with pytest.raises(WebhookVerificationError, match="tolerance"):
        verify(BODY, headers, secret, now=now)
    with pytest.raises(WebhookVerificationError, match="tolerance"):
        verify_x_signature_256(BODY, headers, secret, now=now)
    assert verify(BODY, headers, secret, now=now, tolerance=600)["id"] == "evt-1"


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_a_missing_header_is_refused(missing: str) -> None:
    secret = new_secret()
    headers = signing.headers("evt-1", int(time.time()), BODY, [secret])
    del headers[missing]
    with pytest.raises(WebhookVerificationError, match="missing header"):
        verify(BODY, headers, secret)


def test_header_names_match_whatever_their_case() -> None:
    secret = new_secret()
    headers = {
        name.upper(): value for name, value in signing.headers("evt-1", int(time.time()), BODY, [secret]).items()
    }
    assert verify(BODY, headers, secret)["id"] == "evt-1"


def test_a_v1a_delivery_verifies_with_the_published_key_through_a_rotation(client: Client, receiver: Receiver) -> None:
    """Over the local runtime: the SDK reads the key over HTTP and verifies what the platform really sent."""
    subscription = client.create_subscription(
        {"eventTypes": ["V1aChecked"], "endpointUrl": receiver.url, "signatureScheme": "v1a"}
    )
    old_key = client.get_public_key(subscription["subscriptionId"]).get("publicKey")
    assert old_key and old_key == subscription.get("publicKey")
    receiver.trust_keys(old_key)
    rotated = client.rotate_secret(subscription["subscriptionId"])
    new_key = rotated.get("publicKey")
    assert new_key and new_key != old_key
    receiver.trust_keys(new_key, old_key)
    published = client.publish_event({"type": "V1aChecked", "data": {"n": 1}})
    delivered = poll(lambda: receiver.accepted(), "the v1a delivery")[0]
    assert receiver.verification_errors == []

    assert verify_v1a(delivered.raw, delivered.headers, new_key)["id"] == published["eventId"]
    assert verify_v1a(delivered.raw, delivered.headers, old_key)["id"] == published["eventId"]
    keys = [k["publicKey"] for k in client.get_public_key(subscription["subscriptionId"])["keys"]]
    assert verify_v1a(delivered.raw, delivered.headers, keys)["type"] == "V1aChecked"
    with pytest.raises(WebhookVerificationError):
        verify_v1a(delivered.raw + b" ", delivered.headers, new_key)
    with pytest.raises(WebhookVerificationError):
        verify(delivered.raw, delivered.headers, new_secret())


def test_v1a_refuses_other_keys_stale_timestamps_and_v1_signatures() -> None:
    key = new_private_key()
    other = new_private_key()
    headers = signing.headers("evt-1", int(time.time()), BODY, [key])
    assert headers["webhook-signature"].startswith("v1a,") and "X-Signature-256" not in headers
    public = public_key_of(private_key(key))
    assert verify_v1a(BODY, headers, public)["id"] == "evt-1"
    with pytest.raises(WebhookVerificationError, match="no v1a"):
        verify_v1a(BODY, headers, public_key_of(private_key(other)))
    with pytest.raises(WebhookVerificationError, match="tolerance"):
        verify_v1a(BODY, headers, public, now=time.time() + 400)
    hmac_signed = signing.headers("evt-1", int(time.time()), BODY, [new_secret()])
    with pytest.raises(WebhookVerificationError, match="no v1a"):
        verify_v1a(BODY, hmac_signed, public)
    with pytest.raises(WebhookVerificationError, match="whpk_"):
        verify_v1a(BODY, headers, "whpk_not-a-key")


def new_private_key() -> str:
    return PRIVATE_PREFIX + base64.b64encode(os.urandom(32)).decode()
