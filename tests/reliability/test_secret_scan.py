"""After a full workflow, no secret value is in any DynamoDB item, log line, HTTP response or recorded event.

The workflow: a provider; a connection with inline credentials and a generated webhook secret; a
webhook secret change to a chosen value; a signed inbound delivery, consumed; a run executed against
the fake vendor; a subscription with a generated signing secret and an event delivered to it; an API
key, used; a credential rotation. Every creation carries an Idempotency-Key, so the idempotency
records are scanned too. A secret may appear only in the one response that exists to show it once.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from chalicelib.api.idempotency import ONCE_ONLY_FIELDS
from chalicelib.core import aws
from chalicelib.core.config import ALL_TABLES, get_settings
from chalicelib.rotation.service import register_local_invoker
from infra.local.rotation import STEPS
from tests.outbound.conftest import QueueDriver
from tests.reliability.resources import make_resources
from tests.support.api_client import ApiClient, Reply
from tests.support.fake_vendor import serve_vendor
from tests.support.receiver import serve_receiver
from tests.support.run_driver import deliver, runs_queue

VENDOR_TOKEN = "ghp_SECRETvendorTOKEN0123456789"
ROTATED_TOKEN = "ghp_SECRETrotatedTOKEN987654321"
CHOSEN_WEBHOOK_SECRET = "whsec-SECRET-chosen-by-the-tenant-0042"


class RecordingClient(ApiClient):
    """Keeps every response it was given."""

    def __init__(self, inner: ApiClient) -> None:
        super().__init__(inner._api, inner.token)
        self.replies: list[Reply] = []

    def request(self, method: str, path: str, **kwargs: Any) -> Reply:
        reply = super().request(method, path, **kwargs)
        self.replies.append(reply)
        return reply


def run_rotation_steps(secret_id: str, token: str) -> None:
    from app import credential_rotation

    for step in STEPS:
        credential_rotation({"SecretId": secret_id, "ClientRequestToken": token, "Step": step}, None)


def _visible(reply: Reply) -> str:
    """A response as a client sees it, minus the fields that exist to show a new secret once."""
    text = reply.body.decode(errors="replace")
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    if isinstance(document, dict):
        text = json.dumps({k: v for k, v in document.items() if k not in ONCE_ONLY_FIELDS})
    return text + json.dumps(reply.headers)


def _all_items() -> str:
    dumped: list[str] = []
    for table in ALL_TABLES:
        name = get_settings().table_name(table)
        pages = aws.dynamodb().get_paginator("scan").paginate(TableName=name)
        dumped.extend(str(page["Items"]) for page in pages)
    return "\n".join(dumped)


def test_no_secret_anywhere_after_a_full_workflow(
    client: ApiClient,
    tenant: str,
    driver: QueueDriver,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="integration-platform")  # our logs; botocore's wire dumps are not ours
    recording = RecordingClient(client)
    with serve_vendor() as vendor, serve_receiver() as receiver:
        vendor.expect_bearer(VENDOR_TOKEN)
        made = make_resources(recording, vendor.url, receiver.url, {"token": VENDOR_TOKEN}, key="scan")
        receiver.trust(made.ids["signingSecret"])
        from app import run_operations

        messages, failed = deliver(run_operations, runs_queue(), tenant, wait=1)
        assert messages and not failed
        run = recording.get(f"/integrations/runs/{made.ids['runId']}").json
        assert run["status"] == "Completed", run
        driver.drain()
        assert len(receiver.accepted()) >= 2 and not receiver.verification_errors  # inbound, published, run events
        by_key = recording.get("/integrations/providers", token="", headers={"X-API-Key": made.ids["apiKey"]})
        assert by_key.status == 200
        change = recording.request(
            "PUT",
            f"/integrations/connections/{made.ids['connectionId']}/webhook-secret",
            json_body={"webhookSecret": CHOSEN_WEBHOOK_SECRET, "overlapSeconds": 0},
        )
        assert change.status == 200, change.body
        register_local_invoker(run_rotation_steps)  # Secrets Manager's part: the four steps, at once, in order
        rotation = recording.post(
            "/integrations/credentials/rotate",
            {"credentialId": made.ids["credentialId"], "credentials": {"token": ROTATED_TOKEN}},
            headers={"Idempotency-Key": "scan-rotate"},
        )
        assert rotation.status == 202, rotation.body
        verification = recording.get(f"/integrations/runs/{rotation.json['verificationRunId']}").json
        assert verification["status"] in ("Completed", "Failed"), verification  # verified against the vendor
        for path in ("/integrations/connections", "/webhooks/subscriptions", "/auth/api-keys", "/webhooks/deliveries"):
            recording.get(path + (f"?connectionId={made.ids['connectionId']}" if "deliveries" in path else ""))
    secrets = {
        "vendor token": VENDOR_TOKEN,
        "rotated token": ROTATED_TOKEN,
        "generated webhook secret": made.ids["webhookSecret"],
        "chosen webhook secret": CHOSEN_WEBHOOK_SECRET,
        "signing secret": made.ids["signingSecret"],
        "api key": made.ids["apiKey"],
    }
    captured = capfd.readouterr()
    places = {
        "DynamoDB items (every table, events and idempotency records included)": _all_items(),
        "log lines": captured.out + captured.err + "\n".join(r.getMessage() + str(r.__dict__) for r in caplog.records),
        "HTTP responses": "\n".join(_visible(reply) for reply in recording.replies),
    }
    leaks = [
        f"{secret} in {place}" for place, text in places.items() for secret, value in secrets.items() if value in text
    ]
    assert not leaks, leaks
    assert len(recording.replies) > 10 and len(places["log lines"]) > 0
