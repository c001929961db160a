"""Inbound end to end over the local runtime: a delivery signed as GitHub signs becomes a visible event."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import uuid

from tests.e2e.conftest import LocalRuntime
from tests.support.waiting import poll


def test_github_delivery_is_accepted_and_its_event_becomes_visible(local_runtime: LocalRuntime) -> None:
    token = local_runtime.token(f"tenant-{secrets.token_hex(4)}")
    created = local_runtime.request(
        "POST",
        "/integrations/connections",
        token=token,
        json_body={"providerId": "prov-github", "displayName": "repo hooks", "credentials": {"token": "ghp_e2e"}},
    )
    assert created.status == 201, created.body
    secret, webhook_url = created.json["webhookSecret"], created.json["webhookUrl"]

    # As GitHub sends it: its own JSON bytes, its headers, HMAC-SHA256 of exactly those bytes.
    body = json.dumps({"action": "closed", "pull_request": {"merged": True, "title": "Ünïcode ✓"}}, indent=2).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/e2e",
        "X-GitHub-Event": "pull_request",
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
    }
    assert webhook_url.startswith(local_runtime.base_url + "/webhooks/deliveries/conn-"), webhook_url
    path = webhook_url.removeprefix(local_runtime.base_url)
    accepted = local_runtime.send("POST", path, body, headers)
    assert accepted.status == 202, accepted.body
    assert accepted.json["normalizedEventType"] == "PullRequestMerged"
    assert local_runtime.send("POST", path, body, headers).json["status"] == "Duplicate"

    delivery_path = f"/webhooks/deliveries/{accepted.json['deliveryId']}"
    delivery = poll(
        lambda: (r := local_runtime.request("GET", delivery_path, token=token)).json.get("status") == "Processed" and r,
        "the delivery processed",
        explain=lambda: (
            f"{local_runtime.request('GET', delivery_path, token=token).body!r}\n"
            f"runtime log:\n{local_runtime.output_tail()}"
        ),
    )
    event = local_runtime.request("GET", f"/events/{delivery.json['eventId']}", token=token)
    assert event.status == 200, event.body
    assert event.json["type"] == "PullRequestMerged"
    assert event.json["data"]["payload"]["pull_request"]["title"] == "Ünïcode ✓"
