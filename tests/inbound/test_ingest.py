"""Inbound deliveries through the API: both forms, every outcome, and what is (not) stored."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from chalicelib.connections import store as connection_store
from chalicelib.core import aws
from chalicelib.core.timestamps import parse_time
from chalicelib.credentials import vault
from chalicelib.inbound import lookup
from chalicelib.stats import record as stats
from tests.api.expect import error_of
from tests.inbound import signers
from tests.inbound.conftest import Hook, json_bytes, post_delivery
from tests.support.api_client import ApiClient
from tests.support.aws_calls import aws_calls
from tests.support.events import recorded

MERGED_PR = {"action": "closed", "number": 7, "pull_request": {"merged": True, "title": "Ship it"}}


def github_delivery(
    client: ApiClient, hook: Hook, payload: dict[str, Any], event: str = "pull_request", **kw: Any
) -> Any:
    body = json_bytes(payload)
    headers = {"X-GitHub-Event": event, "X-GitHub-Delivery": kw.get("delivery", str(uuid.uuid4()))}
    return post_delivery(
        client, hook.connection_id, body, {**headers, **signers.github(kw.get("secret", hook.secret), body)}
    )


def test_connection_gets_a_webhook_url_and_a_generated_secret_shown_once(
    client: ApiClient, connect: Callable[..., Hook]
) -> None:
    hook = connect("prov-github")
    assert hook.secret.startswith("whsec_") and len(hook.secret) > 30
    assert hook.created["webhookUrl"] == f"/webhooks/deliveries/{hook.connection_id}"
    assert hook.created["webhookSecretRef"] == f"kv://connections/{hook.connection_id}/webhook"
    shown = client.get(f"/integrations/connections/{hook.connection_id}")
    assert shown.json["webhookUrl"] == hook.created["webhookUrl"]
    assert hook.secret.encode() not in shown.body
    stored = connection_store.TABLE.get(shown.json["tenantId"], hook.connection_id)
    assert stored is not None and hook.secret not in json.dumps(stored)
    given = connect("prov-stripe", webhookSecret="whsec_tenant_chosen_value")
    assert "webhookSecret" not in given.created


def test_github_delivery_accepted_normalized_and_committed_with_its_event(
    client: ApiClient, connect: Callable[..., Hook]
) -> None:
    hook = connect("prov-github")
    accepted = github_delivery(client, hook, MERGED_PR, delivery="gh-12345")
    assert accepted.status == 202, accepted.body
    receipt = accepted.json
    assert receipt["status"] == "Accepted" and receipt["normalizedEventType"] == "PullRequestMerged"
    assert receipt["deliveryId"].startswith("del-") and receipt["traceId"] == accepted.header("X-Trace-Id")
    assert accepted.header("Location") == f"/webhooks/deliveries/{receipt['deliveryId']}"

    delivery = client.get(f"/webhooks/deliveries/{receipt['deliveryId']}").json
    assert delivery["status"] == "Processed" and delivery["providerDeliveryId"] == "gh-12345"
    assert delivery["payload"] == MERGED_PR and delivery["eventName"] == "pull_request"
    assert delivery["headers"]["x-hub-signature-256"] == "[redacted]"
    assert delivery["headers"]["x-github-event"] == "pull_request"
    assert parse_time(delivery["expiresAt"]).timestamp() > time.time() + 29 * 86400
    event = client.get(f"/events/{delivery['eventId']}")
    assert event.status == 200, event.body
    assert event.json["type"] == "PullRequestMerged"
    assert event.json["data"]["payload"] == MERGED_PR and event.json["data"]["deliveryId"] == receipt["deliveryId"]


VENDOR_CASES: list[tuple[str, Callable[[str, str], tuple[bytes, dict[str, str], str]], str, str]] = [
    (
        "prov-stripe",
        lambda secret, vid: (
            body := json_bytes({"id": vid, "type": "payment_intent.succeeded", "data": {"object": {"amount": 1}}}),
            signers.stripe(secret, body),
            "application/json",
        ),
        "PaymentSucceeded",
        "",
    ),
    (
        "prov-slack",
        lambda secret, vid: (
            body := json_bytes({"type": "event_callback", "event_id": vid, "event": {"type": "app_mention"}}),
            signers.slack(secret, body),
            "application/json",
        ),
        "AppMentioned",
        "",
    ),
    (
        "prov-shopify",
        lambda secret, vid: (
            body := json_bytes({"id": 820982911946154508, "email": "jon@example.com"}),
            {"X-Shopify-Topic": "orders/create", "X-Shopify-Webhook-Id": vid, **signers.shopify(secret, body)},
            "application/json",
        ),
        "OrderCreated",
        "",
    ),
    (
        "prov-standard-webhooks",
        lambda secret, vid: (
            body := json_bytes({"type": "invoice.created", "data": {"id": "inv_1"}}),
            signers.standard_webhooks(secret, body, vid),
            "application/json",
        ),
        "standard-webhooks.invoice.created",
        "",
    ),
    (
        "prov-github",
        lambda secret, vid: (
            body := b"payload=" + json.dumps({"ref": "refs/heads/main"}).encode().replace(b" ", b"+"),
            {"X-GitHub-Event": "push", "X-GitHub-Delivery": vid, **signers.github(secret, body)},
            "application/x-www-form-urlencoded",
        ),
        "CodePushed",
        "",
    ),
]


@pytest.mark.parametrize(("provider_id", "build", "expected", "_"), VENDOR_CASES, ids=[c[0] for c in VENDOR_CASES])
def test_each_vendor_form_is_read_where_the_vendor_puts_it(
    client: ApiClient, connect: Callable[..., Hook], provider_id: str, build: Any, expected: str, _: str
) -> None:
    hook = connect(provider_id)
    vendor_id = f"vid-{uuid.uuid4().hex[:8]}"
    body, headers, content_type = build(hook.secret, vendor_id)
    accepted = post_delivery(client, hook.connection_id, body, headers, content_type)
    assert accepted.status == 202, accepted.body
    assert accepted.json["normalizedEventType"] == expected
    delivery = client.get(f"/webhooks/deliveries/{accepted.json['deliveryId']}").json
    assert delivery["providerDeliveryId"] == vendor_id
    assert all(v == "[redacted]" for k, v in delivery["headers"].items() if "signature" in k or "hmac" in k)


def test_004_envelope_form_signed_over_the_envelope(client: ApiClient, connect: Callable[..., Hook]) -> None:
    hook = connect("prov-github")
    envelope = json_bytes({"providerDeliveryId": "gh-12345", "eventName": "pull_request", "payload": MERGED_PR})
    signed = {"X-CS-Provider": "github", "X-CS-Connection": hook.connection_id, **signers.github(hook.secret, envelope)}
    first = client.request("POST", "/webhooks/deliveries", body=envelope, headers=signed, token="")
    assert first.status == 202, first.body
    assert first.json["normalizedEventType"] == "PullRequestMerged"
    by_query = {"X-CS-Provider": "prov-github", **signers.github(hook.secret, envelope)}
    again = client.request(
        "POST", f"/webhooks/deliveries?connectionId={hook.connection_id}", body=envelope, headers=by_query, token=""
    )
    assert (again.status, again.json["status"], again.json["deliveryId"]) == (
        200,
        "Duplicate",
        first.json["deliveryId"],
    )

    missing = client.request(
        "POST", "/webhooks/deliveries", body=envelope, headers={"X-CS-Connection": hook.connection_id}, token=""
    )
    assert missing.status == 400 and missing.json["error"]["details"][0]["field"] == "X-CS-Provider"
    wrong_provider = {**signed, "X-CS-Provider": "stripe"}
    assert client.request("POST", "/webhooks/deliveries", body=envelope, headers=wrong_provider, token="").status == 404
    bad = json_bytes({"providerDeliveryId": "x", "payload": {}})
    invalid = client.request(
        "POST", "/webhooks/deliveries", body=bad, headers={**signed, **signers.github(hook.secret, bad)}, token=""
    )
    assert invalid.status == 400 and invalid.json["error"]["code"] == "VALIDATION_ERROR"


def test_bad_signature_is_401_nothing_stored_counted_and_logged_without_body(
    client: ApiClient,
    connect: Callable[..., Hook],
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    hook = connect("prov-github")
    capsys.readouterr()
    payload = {"action": "opened", "marker": "do-not-log-this-body"}
    forged = github_delivery(client, hook, payload, event="issues", secret="whsec_guess")
    assert forged.status == 401 and forged.json["error"]["code"] == "AUTHENTICATION_FAILED"
    unsigned = post_delivery(client, hook.connection_id, json_bytes(payload), {"X-GitHub-Event": "issues"})
    assert unsigned.status == 401
    metrics = capsys.readouterr().out
    assert metrics.count('"InboundSignatureRejected":[1.0]') == 2
    logged = [vars(r) for r in caplog.records if r.getMessage() == "inbound delivery rejected"]
    assert [r["reason"] for r in logged] == ["signature does not match", "missing X-Hub-Signature-256 header"]
    everything = metrics + caplog.text + repr(logged)
    assert "do-not-log-this-body" not in everything and "sha256=" not in everything
    listed = client.get(f"/webhooks/deliveries?connectionId={hook.connection_id}")
    assert listed.status == 200 and listed.json["items"] == []


def test_a_flood_of_forged_deliveries_costs_no_aws_call_per_request(
    client: ApiClient, connect: Callable[..., Hook], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing is written for a forged delivery but, at most once per interval and connection, its count."""
    monkeypatch.setattr(stats, "HELD", stats.Amortized(interval=3600.0))  # the flood fits in one interval
    hook = connect("prov-github")
    assert github_delivery(client, hook, MERGED_PR, secret="whsec_guess").status == 401  # caches the lookups
    with aws_calls() as calls:
        for _ in range(20):
            assert github_delivery(client, hook, MERGED_PR, secret="whsec_guess").status == 401
    assert calls == []
    series = client.get(f"/metrics?connectionId={hook.connection_id}&granularity=hour").json
    assert sum(point["inbound"]["rejected"] for point in series["points"]) == 1  # the rest ride with a later write


def test_stale_timestamp_is_401(client: ApiClient, connect: Callable[..., Hook]) -> None:
    hook = connect("prov-stripe")
    body = json_bytes({"id": "evt_old", "type": "invoice.paid"})
    stale = post_delivery(client, hook.connection_id, body, signers.stripe(hook.secret, body, int(time.time()) - 600))
    assert stale.status == 401
    fresh = post_delivery(client, hook.connection_id, body, signers.stripe(hook.secret, body))
    assert fresh.status == 202 and fresh.json["normalizedEventType"] == "InvoicePaid"


def test_unknown_and_other_tenant_connection_is_404(
    client: ApiClient, connect: Callable[..., Hook], issuer: Any
) -> None:
    hook = connect("prov-github")
    body = json_bytes(MERGED_PR)
    headers = {"X-GitHub-Event": "pull_request", "X-GitHub-Delivery": "d1", **signers.github(hook.secret, body)}
    assert post_delivery(client, "conn-000000000000", body, headers).json["error"]["code"] == "RESOURCE_NOT_FOUND"
    other = ApiClient(client._api, issuer.token("tenant-someone-else"))
    as_other = other.request("POST", f"/webhooks/deliveries/{hook.connection_id}", body=body, headers=headers)
    assert as_other.status == 404
    assert other.get(f"/webhooks/deliveries?connectionId={hook.connection_id}").json["items"] == []


def test_deactivated_connection_is_409(client: ApiClient, connect: Callable[..., Hook]) -> None:
    hook = connect("prov-github")
    tenant = (
        hook.created["connectionId"] and client.get(f"/integrations/connections/{hook.connection_id}").json["tenantId"]
    )
    assert github_delivery(client, hook, MERGED_PR).status == 202
    connection_store.TABLE.update(tenant, hook.connection_id, {"status": "Inactive"})
    lookup.forget_connection(hook.connection_id)  # a warm container sees it within lookup.TTL_SECONDS
    refused = github_delivery(client, hook, MERGED_PR)
    assert refused.status == 409 and refused.json["error"]["code"] == "CONFLICT"
    assert github_delivery(client, hook, MERGED_PR, secret="wrong").status == 401


def test_body_over_the_limit_is_413(client: ApiClient, connect: Callable[..., Hook]) -> None:
    hook = connect("prov-github")
    body = json_bytes({"blob": "x" * (1024 * 1024)})
    headers = {"X-GitHub-Event": "push", "X-GitHub-Delivery": "big", **signers.github(hook.secret, body)}
    too_large = post_delivery(client, hook.connection_id, body, headers)
    assert too_large.status == 413 and too_large.json["error"]["code"] == "PAYLOAD_TOO_LARGE"


def _listed(client: ApiClient, hook: Hook) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = client.get(f"/webhooks/deliveries?connectionId={hook.connection_id}").json["items"]
    return items


def test_a_signed_body_the_scheme_cannot_read_is_stored_failed_with_its_reason(
    client: ApiClient, connect: Callable[..., Hook], tenant: str
) -> None:
    stripe = connect("prov-stripe")
    for body in (b"not json at all", json_bytes({"id": "evt_1"}), json_bytes(["list"]), json_bytes({"type": "x"})):
        reply = post_delivery(client, stripe.connection_id, body, signers.stripe(stripe.secret, body))
        assert reply.status == 202 and "normalizedEventType" not in reply.json, body
        delivery = client.get(f"/webhooks/deliveries/{reply.json['deliveryId']}").json
        assert delivery["status"] == "Failed" and "eventId" not in delivery and "payload" not in delivery
        assert delivery["failureReason"].startswith("the delivery could not be read: "), delivery
        again = post_delivery(client, stripe.connection_id, body, signers.stripe(stripe.secret, body))
        assert (again.status, again.json["status"]) == (200, "Duplicate")  # the same body is the same delivery
    announced = [e["data"] for e in recorded(tenant, "DeliveryFailed")]  # once each, committed with the delivery
    assert sorted(a["deliveryId"] for a in announced) == sorted(d["deliveryId"] for d in _listed(client, stripe))
    assert all(a["reason"].startswith("the delivery could not be read: ") for a in announced)
    github = connect("prov-github")
    body = json_bytes(MERGED_PR)
    no_event = post_delivery(
        client, github.connection_id, body, {"X-GitHub-Delivery": "d", **signers.github(github.secret, body)}
    )
    failed = client.get(f"/webhooks/deliveries/{no_event.json['deliveryId']}").json
    assert no_event.status == 202 and "X-GitHub-Event" in failed["failureReason"]
    forged = post_delivery(client, github.connection_id, b"not json", {"X-GitHub-Delivery": "d2"})
    assert forged.status == 401  # only a delivery whose signature verifies is stored


def test_a_004_envelope_that_is_not_valid_is_the_callers_400(client: ApiClient, connect: Callable[..., Hook]) -> None:
    hook = connect("prov-github")
    body = json_bytes({"eventName": "push", "payload": {}})
    reply = client.request(
        "POST",
        "/webhooks/deliveries",
        body=body,
        headers={
            "Content-Type": "application/json",
            "X-CS-Provider": "github",
            "X-CS-Connection": hook.connection_id,
            **signers.github(hook.secret, body),
        },
        token="",
    )
    assert reply.status == 400 and reply.json["error"]["code"] == "VALIDATION_ERROR", reply.body


def test_repeat_delivery_is_200_duplicate_with_the_same_id(client: ApiClient, connect: Callable[..., Hook]) -> None:
    hook = connect("prov-github")
    first = github_delivery(client, hook, MERGED_PR, delivery="same-1")
    second = github_delivery(client, hook, MERGED_PR, delivery="same-1")
    assert (first.status, second.status) == (202, 200)
    assert second.json == {**first.json, "status": "Duplicate", "traceId": second.json["traceId"]}
    other = github_delivery(client, hook, MERGED_PR, delivery="same-2")
    assert other.status == 202 and other.json["deliveryId"] != first.json["deliveryId"]


def test_unmapped_events_pass_through_and_the_catalog_is_listed(
    client: ApiClient, connect: Callable[..., Hook]
) -> None:
    hook = connect("prov-github")
    starred = github_delivery(client, hook, {"action": "created"}, event="star")
    assert starred.json["normalizedEventType"] == "github.star"
    closed = github_delivery(client, hook, {"action": "closed", "pull_request": {"merged": False}})
    assert closed.json["normalizedEventType"] == "PullRequestClosed"
    catalog = client.get("/webhooks/event-types", token="")
    assert catalog.status == 200
    merged = [r for r in catalog.json["items"] if r["eventType"] == "PullRequestMerged"]
    assert merged == [
        {
            "provider": "github",
            "eventName": "pull_request",
            "when": {"action": "closed", "pull_request.merged": True},
            "eventType": "PullRequestMerged",
        }
    ]
    assert catalog.json["unmapped"] == "<providerKey>.<eventName>"


def test_secret_change_keeps_the_old_secret_valid_during_the_overlap(
    client: ApiClient, connect: Callable[..., Hook]
) -> None:
    hook = connect("prov-github", webhookSecret="first-secret-value")
    changed = client.request(
        "PUT", f"/integrations/connections/{hook.connection_id}/webhook-secret", json_body={"overlapSeconds": 3600}
    )
    assert changed.status == 200, changed.body
    new_secret = changed.json["webhookSecret"]
    assert new_secret and changed.json["previousSecretExpiresAt"]
    assert github_delivery(client, hook, MERGED_PR, secret="first-secret-value").status == 202
    assert github_delivery(client, hook, MERGED_PR, secret=new_secret).status == 202

    chosen = client.request(
        "PUT",
        f"/integrations/connections/{hook.connection_id}/webhook-secret",
        json_body={"webhookSecret": "third-secret-value", "overlapSeconds": 0},
    )
    assert chosen.status == 200 and "webhookSecret" not in chosen.json and "previousSecretExpiresAt" not in chosen.json
    assert github_delivery(client, hook, MERGED_PR, secret="third-secret-value").status == 202
    assert github_delivery(client, hook, MERGED_PR, secret=new_secret).status == 401
    assert github_delivery(client, hook, MERGED_PR, secret="first-secret-value").status == 401


def test_webhook_secret_ref_names_a_tenant_managed_secret(
    client: ApiClient, connect: Callable[..., Hook], tenant: str
) -> None:
    from chalicelib.credentials import vault

    vault.store_new(tenant, "hooks/github", {"webhookSecret": "managed-elsewhere"}, description="test")
    hook = connect("prov-github", webhookSecretRef="kv://hooks/github")
    assert hook.created["webhookSecretRef"] == "kv://hooks/github" and "webhookSecret" not in hook.created
    assert github_delivery(client, hook, MERGED_PR, secret="managed-elsewhere").status == 202
    missing = client.post(
        "/integrations/connections",
        {
            "providerId": "prov-github",
            "displayName": "x",
            "credentials": {"token": "t"},
            "webhookSecretRef": "kv://nope",
        },
    )
    assert missing.status == 422
    not_base64 = client.post(
        "/integrations/connections",
        {
            "providerId": "prov-standard-webhooks",
            "displayName": "x",
            "credentials": {"token": "t"},
            "webhookSecret": "not base64!",
        },
    )
    assert not_base64.status == 422


def test_slack_url_verification_answers_the_challenge_and_stores_nothing(
    client: ApiClient, connect: Callable[..., Hook]
) -> None:
    hook = connect("prov-slack")
    body = json_bytes(
        {
            "token": "legacy",
            "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
            "type": "url_verification",
        }
    )
    answered = post_delivery(client, hook.connection_id, body, signers.slack(hook.secret, body))
    assert answered.status == 200 and answered.json == {
        "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    }
    assert client.get(f"/webhooks/deliveries?connectionId={hook.connection_id}").json["items"] == []


def test_deliveries_list_is_paged_newest_first_and_tenant_scoped(
    client: ApiClient, connect: Callable[..., Hook]
) -> None:
    hook = connect("prov-github")
    ids = [github_delivery(client, hook, MERGED_PR, delivery=f"page-{i}").json["deliveryId"] for i in range(3)]
    first = client.get(f"/webhooks/deliveries?connectionId={hook.connection_id}&limit=2")
    assert first.status == 200 and len(first.json["items"]) == 2 and first.json["nextCursor"]
    rest = client.get(
        f"/webhooks/deliveries?connectionId={hook.connection_id}&limit=2&cursor={first.json['nextCursor']}"
    )
    seen = [d["deliveryId"] for d in first.json["items"] + rest.json["items"]]
    assert sorted(seen) == sorted(ids) and len(set(seen)) == 3
    assert client.get("/webhooks/deliveries?connectionId=x&cursor=garbage").status == 400
    assert client.get("/webhooks/deliveries/del-unknown").status == 404
    assert client.get("/webhooks/deliveries").status == 400


def test_providers_without_a_signing_scheme_get_no_webhook_secret(
    client: ApiClient, connect: Callable[..., Hook]
) -> None:
    jira = connect("prov-jira")
    assert "webhookUrl" not in jira.created and "webhookSecret" not in jira.created
    body = {"providerId": "prov-jira", "displayName": "x", "credentials": {"username": "u", "password": "p"}}
    assert client.post("/integrations/connections", {**body, "webhookSecret": "s"}).status == 422
    path = f"/integrations/connections/{jira.connection_id}/webhook-secret"
    assert client.request("PUT", path, json_body={}).status == 422
    unknown = client.request("PUT", "/integrations/connections/conn-unknown/webhook-secret", json_body={})
    assert unknown.status == 404
    refused = post_delivery(client, jira.connection_id, b"{}", {})
    assert refused.status == 401


@pytest.mark.parametrize(
    "breaker",
    [
        {"ForceDeleteWithoutRecovery": True},
        {"RecoveryWindowInDays": 7},
        {"SecretString": "not json"},
        {"SecretString": '{"other": "shape"}'},
    ],
    ids=["deleted", "scheduled", "not-json", "wrong-shape"],
)
def test_an_unreadable_webhook_secret_is_409_not_500(
    client: ApiClient, connect: Callable[..., Hook], tenant: str, breaker: dict[str, Any]
) -> None:
    hook = connect("prov-github")
    path = f"connections/{hook.connection_id}/webhook"
    secrets_manager = aws.secretsmanager()
    if "SecretString" in breaker:
        secrets_manager.put_secret_value(SecretId=vault.secret_name(tenant, path), **breaker)
    else:
        secrets_manager.delete_secret(SecretId=vault.secret_name(tenant, path), **breaker)
    vault.forget(tenant, path)  # as in any other warm container, once the cache has expired
    reply = github_delivery(client, hook, MERGED_PR)
    message = error_of(reply, 409, "CREDENTIAL_UNAVAILABLE")["message"]
    assert "kv://" not in message  # the sender is told nothing about where the tenant keeps secrets
