"""Over the local runtime: a signed GitHub delivery reaches a subscribed receiver, signed again.

Everything runs in the runtime process as a user would run it: the vendor-facing
route (one write: the delivery and its event), the events stream poller and fan-out, the
outbound-dispatch poller and the dispatcher. The receiver verifies the message
with the ``standardwebhooks`` library and ``X-Signature-256``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import uuid

from tests.e2e.conftest import LocalRuntime
from tests.support.receiver import serve_receiver
from tests.support.waiting import poll


def test_github_pull_request_merged_reaches_a_subscriber(local_runtime: LocalRuntime) -> None:
    tenant = f"tenant-{secrets.token_hex(4)}"
    token = local_runtime.token(tenant)
    connection = local_runtime.request(
        "POST",
        "/integrations/connections",
        token=token,
        json_body={"providerId": "prov-github", "displayName": "GitHub e2e", "credentials": {"token": "ghp-e2e"}},
    )
    assert connection.status == 201, connection.body
    vendor_secret = connection.json["webhookSecret"]

    with serve_receiver() as receiver:
        subscription = local_runtime.request(
            "POST",
            "/webhooks/subscriptions",
            token=token,
            json_body={"eventType": "PullRequestMerged", "endpointUrl": receiver.url},
        )
        assert subscription.status == 201, subscription.body
        receiver.trust(subscription.json["signingSecret"])

        body = json.dumps({"action": "closed", "number": 42, "pull_request": {"merged": True}}).encode()
        signature = "sha256=" + hmac.new(vendor_secret.encode(), body, hashlib.sha256).hexdigest()
        delivered = local_runtime.send(
            "POST",
            f"/webhooks/deliveries/{connection.json['connectionId']}",
            body,
            {
                "Content-Type": "application/json",
                "X-GitHub-Event": "pull_request",
                "X-GitHub-Delivery": str(uuid.uuid4()),
                "X-Hub-Signature-256": signature,
            },
        )
        assert delivered.status == 202, delivered.body
        delivery_path = delivered.headers["Location"]

        def where_it_is() -> str:
            delivery = local_runtime.request("GET", delivery_path, token=token).json
            event_id = delivery.get("eventId")
            event = local_runtime.request("GET", f"/events/{event_id}", token=token).json if event_id else None
            return f"delivery: {delivery}\nevent: {event}\nruntime log:\n{local_runtime.output_tail()}"

        poll(receiver.accepted, "the outbound webhook", explain=where_it_is)
        assert receiver.verification_errors == []
        [message] = receiver.accepted()
        assert message.body["type"] == "PullRequestMerged"
        assert message.headers["webhook-id"] == message.body["id"]

    logged = local_runtime.request(
        "GET", f"/webhooks/subscriptions/{subscription.json['subscriptionId']}/attempts", token=token
    )
    assert logged.status == 200 and logged.json["items"][0]["status"] == "Succeeded"
