"""Every time in every answer of a realistic flow has the one form, as ``/openapi.json`` declares.

Over the local runtime: an API key, a provider, a subscription, a connection
(health, test), a signed inbound delivery fanned out to a receiver, its event, a
run against the fake vendor, the attempt log, a credential rotation and the
credential view. Each answer is walked along its response schema (every
``format: date-time`` value) and by key name (every ``…At``, ``…Since``,
``timestamp``), and so are the outbound webhook payloads the receiver got.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import urllib.request
import uuid
from typing import Any

from tests.e2e.conftest import LocalRuntime
from tests.support.fake_vendor import serve_vendor
from tests.support.receiver import serve_receiver
from tests.support.timestamps import declared_times, named_times, off_form
from tests.support.waiting import WAIT_SECONDS, poll

VENDOR_TOKEN = "ghp_timestamps000000000000000000000000"
PR = {"owner": "octo", "repo": "hello", "title": "Times", "head": "times", "base": "main"}
CONNECTION = "/integrations/connections/{connectionId}"
OPERATION = "/integrations/connections/{connectionId}/operations/{operation}"


class Flow:
    """Calls by path template, so each answer is checked against its operation's schema."""

    def __init__(self, runtime: LocalRuntime, token: str, document: dict[str, Any]) -> None:
        self.runtime, self.token, self.document = runtime, token, document
        self.declared = 0
        self.problems: list[str] = []

    def call(self, status: int, method: str, template: str, body: Any = None, **params: str) -> Any:
        path = template.format(**params)
        reply = self.runtime.request(method, path, json_body=body, token=self.token)
        assert reply.status == status, (method, path, reply.status, reply.body)
        answer = reply.json
        operation = self.document["paths"][template.split("?")[0]][method.lower()]
        schema = operation["responses"][str(status)]["content"]["application/json"]["schema"]
        declared = list(declared_times(self.document, schema, answer))
        self.declared += len(declared)
        where = f"{method} {template} {status}"
        self.problems += [f"{where}: {p}" for p in off_form(iter(declared)) + off_form(named_times(answer))]
        return answer

    def field(self, path: str, *names: str) -> Any:
        """A (nested) field of a GET answer, unchecked: for waiting."""
        value: Any = self.runtime.request("GET", path, token=self.token).json
        for name in names:
            value = (value or {}).get(name)
        return value


def signed_github_delivery(url: str, secret: str) -> str:
    body = json.dumps({"action": "closed", "number": 1, "pull_request": {"merged": True}}).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {"X-GitHub-Event": "pull_request", "X-GitHub-Delivery": str(uuid.uuid4())}
    headers |= {"Content-Type": "application/json", "X-Hub-Signature-256": signature}
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    with urllib.request.urlopen(request, timeout=WAIT_SECONDS) as accepted:
        delivery_id: str = json.loads(accepted.read())["deliveryId"]
        return delivery_id


def test_every_timestamp_of_a_realistic_flow_has_the_one_form(local_runtime: LocalRuntime) -> None:
    tenant = f"tenant-{secrets.token_hex(4)}"
    document = local_runtime.request("GET", "/openapi.json").json
    flow = Flow(local_runtime, local_runtime.token(tenant), document)

    api_key = {"name": "ci", "scopes": ["integration.runs.read"], "expiresAt": "2099-01-01T00:00:00+02:00"}
    assert flow.call(201, "POST", "/auth/api-keys", api_key)["expiresAt"] == "2098-12-31T22:00:00.000Z"
    flow.call(200, "GET", "/auth/api-keys")
    provider = {"key": f"times-{secrets.token_hex(3)}", "displayName": "Times", "category": "Generic"}
    flow.call(201, "POST", "/integrations/providers", provider | {"authModel": "ApiKey", "baseUrl": "https://x.io"})

    with serve_vendor() as vendor, serve_receiver() as receiver:
        vendor.expect_bearer(VENDOR_TOKEN)
        wanted = {"eventTypes": ["*"], "endpointUrl": receiver.url}
        subscription = flow.call(201, "POST", "/webhooks/subscriptions", wanted)
        receiver.trust(subscription["signingSecret"])
        sub_id = subscription["subscriptionId"]
        flow.call(200, "GET", "/webhooks/subscriptions/{subscriptionId}", subscriptionId=sub_id)
        flow.call(200, "GET", "/webhooks/subscriptions")

        github = {"providerId": "prov-github", "displayName": "Times", "credentials": {"token": VENDOR_TOKEN}}
        github["configuration"] = {"baseUrl": vendor.url}
        connection = flow.call(201, "POST", "/integrations/connections", github)
        conn_id = connection["connectionId"]
        flow.call(200, "POST", CONNECTION + "/health/check", connectionId=conn_id)
        flow.call(200, "GET", CONNECTION + "/health", connectionId=conn_id)
        flow.call(200, "POST", CONNECTION + "/test", connectionId=conn_id)

        delivery_id = signed_github_delivery(connection["webhookUrl"], connection["webhookSecret"])
        delivery = f"/webhooks/deliveries/{delivery_id}"
        poll(lambda: flow.field(delivery, "status") == "Processed", "the delivery processed")
        event_id = flow.call(200, "GET", "/webhooks/deliveries/{id}", id=delivery_id)["eventId"]
        flow.call(200, "GET", "/webhooks/deliveries?connectionId={connectionId}", connectionId=conn_id)
        flow.call(200, "GET", "/events/{eventId}", eventId=event_id)

        run_id = flow.call(
            202, "POST", OPERATION, {"parameters": PR}, connectionId=conn_id, operation="OpenPullRequest"
        )["runId"]
        poll(lambda: flow.field(f"/integrations/runs/{run_id}", "status") == "Completed", "the run completed")
        flow.call(200, "GET", "/integrations/runs/{runId}", runId=run_id)
        flow.call(200, "GET", "/integrations/runs")
        flow.call(200, "GET", CONNECTION, connectionId=conn_id)
        flow.call(200, "GET", "/integrations/connections")

        fanned_out = {"PullRequestMerged", "RunStarted", "RunCompleted"}
        poll(lambda: fanned_out <= {m.body["type"] for m in receiver.accepted()}, "the webhooks")
        flow.call(200, "GET", "/webhooks/subscriptions/{subscriptionId}/attempts", subscriptionId=sub_id)
        for message in receiver.accepted():
            flow.problems += [f"webhook {message.body['type']}: {p}" for p in off_form(named_times(message.body))]

        rotate = {"credentialId": connection["credentialId"], "credentials": {"token": VENDOR_TOKEN}}
        credential_id = flow.call(202, "POST", "/integrations/credentials/rotate", rotate)["credentialId"]
        credential = f"/integrations/credentials/{credential_id}"
        poll(lambda: flow.field(credential, "rotation", "status") == "Rotated", "the rotation ended")
        view = flow.call(200, "GET", "/integrations/credentials/{credentialId}", credentialId=credential_id)
        assert view["rotation"]["completedAt"] and view["versions"][0]["createdAt"]

    assert flow.declared > 30, "the schemas declared the times that were checked"
    assert flow.problems == []
