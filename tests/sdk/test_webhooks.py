"""The webhook helpers verify what the platform really sends, and refuse what it did not."""

from __future__ import annotations

import json
import time

import pytest
from integration_platform import Client
from integration_platform.webhooks import WebhookVerificationError, verify, verify_x_signature_256

from chalicelib.outbound import signing
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
    delivered = poll(lambda: receiver.accepted(), "the RunCompleted delivery", seconds=60)[0]

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
