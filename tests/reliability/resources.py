"""One tenant's resources of every kind, made through the API, for the isolation matrix and the secret scan."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from tests.inbound import signers
from tests.support.api_client import ApiClient, Reply

PROVIDER = {"key": "acme", "displayName": "Acme", "authModel": "ApiKey", "baseUrl": "https://api.acme.example"}


@dataclass
class Made:
    """Path parameter name -> an id of this tenant; every response the API gave while making them."""

    ids: dict[str, str] = field(default_factory=dict)
    replies: list[Reply] = field(default_factory=list)

    def ok(self, reply: Reply, *statuses: int) -> dict[str, Any]:
        assert reply.status in (statuses or (200, 201, 202)), reply.body
        self.replies.append(reply)
        return dict(reply.json) if reply.body else {}


def make_resources(
    client: ApiClient, vendor_url: str, receiver_url: str, credentials: dict[str, str], key: str = "k"
) -> Made:
    """Provider, connection (inline credentials, generated webhook secret), inbound delivery, run,
    subscription (generated signing secret), event, API key: each created with an Idempotency-Key."""
    made = Made()

    def post(path: str, body: dict[str, Any], name: str) -> dict[str, Any]:
        return made.ok(client.post(path, body, headers={"Idempotency-Key": f"{key}-{name}"}))

    made.ids["providerId"] = post("/integrations/providers", PROVIDER, "provider")["providerId"]
    connection = post(
        "/integrations/connections",
        {
            "providerId": "prov-github",
            "displayName": "workflow",
            "credentials": credentials,
            "configuration": {"baseUrl": vendor_url},
        },
        "connection",
    )
    made.ids["connectionId"] = connection["connectionId"]
    made.ids["credentialId"] = connection["credentialId"]
    made.ids["webhookSecret"] = connection["webhookSecret"]
    body = json.dumps({"action": "opened", "number": 7}).encode()
    delivery = client.request(
        "POST",
        f"/webhooks/deliveries/{connection['connectionId']}",
        body=body,
        headers={
            "Content-Type": "application/json",
            "X-GitHub-Event": "pull_request",
            "X-GitHub-Delivery": f"{key}-delivery",
            **signers.github(connection["webhookSecret"], body),
        },
        token="",
    )
    made.ids["id"] = made.ok(delivery, 202)["deliveryId"]
    run = post(
        f"/integrations/connections/{connection['connectionId']}/operations/GetRepository",
        {"parameters": {"owner": "octo", "repo": "hello"}},
        "run",
    )
    made.ids["runId"] = run["runId"]
    made.ids["operation"] = "GetRepository"
    subscription = post("/webhooks/subscriptions", {"endpointUrl": receiver_url, "eventTypes": ["*"]}, "subscription")
    made.ids["subscriptionId"] = subscription["subscriptionId"]
    made.ids["signingSecret"] = subscription["signingSecret"]
    made.ids["eventId"] = post("/events", {"type": "InvoicePaid", "data": {"amount": 5}}, "event")["eventId"]
    api_key = post("/auth/api-keys", {"name": "ci", "scopes": ["integration.providers.read"]}, "api-key")
    made.ids["apiKeyId"] = api_key["apiKeyId"]
    made.ids["apiKey"] = api_key["apiKey"]
    schedule = post(
        f"/integrations/connections/{connection['connectionId']}/schedules",
        {"operation": "GetRepository", "parameters": {"owner": "octo", "repo": "hello"}, "rate": "1 day"},
        "schedule",
    )
    made.ids["scheduleId"] = schedule["scheduleId"]
    return made
