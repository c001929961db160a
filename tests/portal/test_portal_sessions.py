"""``POST /webhooks/portal-sessions`` and what a portal token can and cannot do (over the local gateway, on moto)."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import unquote

import jwt
import pytest

from chalicelib.portal import tokens
from infra.local.dev_issuer import DevIssuer
from tests.api.expect import client_for, error_of
from tests.support.api_client import ApiClient

URL = "http://127.0.0.1:9/hooks"
SESSIONS = "/webhooks/portal-sessions"


def subscription(client: ApiClient, **fields: Any) -> str:
    reply = client.post("/webhooks/subscriptions", {"eventTypes": ["*"], "endpointUrl": URL, **fields})
    assert reply.status == 201, reply.body
    return str(reply.json["subscriptionId"])


def portal_token(client: ApiClient, **body: Any) -> str:
    reply = client.post(SESSIONS, body)
    assert reply.status == 201, reply.body
    return str(reply.json["token"])


def test_a_session_for_subscription_ids_answers_a_link_with_the_token_in_its_fragment(client: ApiClient) -> None:
    sub = subscription(client)
    reply = client.post(SESSIONS, {"subscriptionIds": [sub, sub], "expiresInSeconds": 600})
    assert reply.status == 201, reply.body
    body = reply.json
    assert body["subscriptionIds"] == [sub]
    _, _, fragment = body["portalUrl"].partition("/portal#token=")  # PUBLIC_BASE_URL + the page
    assert unquote(fragment) == body["token"]
    claims = jwt.decode(body["token"], options={"verify_signature": False})
    assert claims["iss"] == tokens.ISSUER and claims["subscription_ids"] == [sub]
    assert claims["exp"] - claims["iat"] == 600
    assert body["expiresAt"].endswith("Z")


def test_a_consumer_id_selects_the_subscriptions_of_that_project(client: ApiClient) -> None:
    mine = subscription(client, projectId="cust-42")
    subscription(client, projectId="cust-43")
    assert client.post(SESSIONS, {"consumerId": "cust-42"}).json["subscriptionIds"] == [mine]
    error_of(client.post(SESSIONS, {"consumerId": "nobody"}), 422, "UNPROCESSABLE_ENTITY")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"consumerId": "c", "subscriptionIds": ["sub-x"]},
        {"subscriptionIds": []},
        {"consumerId": "c", "expiresInSeconds": 86401},
    ],
    ids=["neither", "both", "empty list", "longer than 24 h"],
)
def test_a_session_needs_one_selector_and_at_most_a_day(client: ApiClient, body: dict[str, Any]) -> None:
    reply = client.post(SESSIONS, body)
    assert reply.status == 400, reply.body


def test_another_tenants_subscription_cannot_go_in_a_session(
    client: ApiClient, local_api: object, issuer: DevIssuer
) -> None:
    foreign = subscription(client_for(local_api, issuer))  # type: ignore[arg-type]
    error_of(client.post(SESSIONS, {"subscriptionIds": [foreign]}), 404, "RESOURCE_NOT_FOUND")


def test_a_portal_token_manages_its_own_subscription(client: ApiClient, local_api: object) -> None:
    sub = subscription(client)
    portal = ApiClient(local_api, portal_token(client, subscriptionIds=[sub]))  # type: ignore[arg-type]
    one = f"/webhooks/subscriptions/{sub}"
    assert portal.get(one).json["subscriptionId"] == sub
    changed = portal.request(
        "PATCH", one, json_body={"endpointUrl": "http://127.0.0.1:9/new", "eventTypes": ["Invoice*"]}
    )
    assert changed.status == 200, changed.body
    assert client.get(one).json["endpointUrl"] == "http://127.0.0.1:9/new"
    rotated = portal.post(f"{one}/rotate-secret")
    assert rotated.status == 200 and rotated.json["signingSecret"].startswith("whsec_"), rotated.body
    assert portal.get(f"{one}/attempts").status == 200


def test_a_portal_rotation_cannot_name_one_of_the_tenants_secrets(client: ApiClient, local_api: object) -> None:
    """Else a tenant's customer could sign with another customer's secret, or probe which secrets exist."""
    sub, other = subscription(client), subscription(client)
    other_ref = client.get(f"/webhooks/subscriptions/{other}").json["signingSecretRef"]
    portal = ApiClient(local_api, portal_token(client, subscriptionIds=[sub]))  # type: ignore[arg-type]
    for ref in (other_ref, "secret:tenant/missing"):
        refused = portal.post(f"/webhooks/subscriptions/{sub}/rotate-secret", {"signingSecretRef": ref})
        assert refused.status == 403 and refused.json["error"]["code"] == "AUTHORIZATION_DENIED", refused.body
    tenant_may = client.post(f"/webhooks/subscriptions/{sub}/rotate-secret", {"signingSecretRef": other_ref})
    assert tenant_may.status == 200, tenant_may.body


def test_a_portal_token_reaches_nothing_else(client: ApiClient, local_api: object) -> None:
    sub, other = subscription(client), subscription(client)
    event = client.post("/events", {"type": "InvoicePaid", "data": {}}).json["eventId"]
    portal = ApiClient(local_api, portal_token(client, subscriptionIds=[sub]))  # type: ignore[arg-type]
    refused: list[tuple[str, str, Any]] = [
        ("GET", "/integrations/connections", None),
        ("GET", "/webhooks/subscriptions", None),
        ("POST", SESSIONS, {"subscriptionIds": [sub]}),
        ("POST", "/auth/api-keys", {"name": "x", "scopes": []}),
        ("DELETE", f"/webhooks/subscriptions/{sub}", None),
        ("POST", f"/webhooks/subscriptions/{sub}/recover", {"since": "2020-01-01T00:00:00Z"}),
        ("POST", "/events", {"type": "InvoicePaid", "data": {}}),
        ("GET", "/metrics", None),
    ]
    for method, path, body in refused:
        error_of(portal.request(method, path, json_body=body), 403, "AUTHORIZATION_DENIED")
    absent: list[tuple[str, str, Any]] = [
        ("GET", f"/webhooks/subscriptions/{other}", None),
        ("PATCH", f"/webhooks/subscriptions/{other}", {"active": False}),
        ("POST", f"/webhooks/subscriptions/{other}/rotate-secret", None),
        ("GET", f"/webhooks/subscriptions/{other}/attempts", None),
        ("GET", f"/events/{event}", None),  # never delivered to the portal's subscription
        ("POST", f"/events/{event}/redeliver", {}),  # to every subscriber: not for a portal
        ("POST", f"/events/{event}/redeliver", {"subscriptionId": other}),
        ("POST", f"/events/{event}/redeliver", {"subscriptionId": sub}),  # sub was never sent it
    ]
    for method, path, body in absent:
        error_of(portal.request(method, path, json_body=body), 404, "RESOURCE_NOT_FOUND")
    assert client.get(f"/webhooks/subscriptions/{other}").json["active"] is True


def test_an_expired_or_forged_portal_token_is_401(client: ApiClient, local_api: object, tenant: str) -> None:
    sub = subscription(client)
    expired, _ = tokens.mint(tenant, [sub], None, -10)
    now = int(time.time())
    claims = {
        "iss": tokens.ISSUER,
        "aud": tokens.AUDIENCE,
        "exp": now + 60,
        "tenant_id": tenant,
        "subscription_ids": [sub],
    }
    forged = jwt.encode(claims, "not-the-platform-key-but-long-enough-for-hs256", algorithm="HS256")
    for token in (expired, forged):
        error_of(ApiClient(local_api, token).get(f"/webhooks/subscriptions/{sub}"), 401, "AUTHENTICATION_FAILED")  # type: ignore[arg-type]


def test_the_signing_key_is_made_once_and_shared(client: ApiClient) -> None:
    """A second process (empty cache) verifies what the first signed: both read the one stored key."""
    sub = subscription(client)
    token = portal_token(client, subscriptionIds=[sub])
    tokens._key_cache.clear()
    assert tokens.principal_from_portal(token).subscription_ids == frozenset({sub})


def test_a_replayed_session_never_shows_its_token_again(client: ApiClient) -> None:
    """The idempotency record keeps no credential: the replay has neither the token nor the link."""
    sub = subscription(client)
    first = client.post(SESSIONS, {"subscriptionIds": [sub]}, headers={"Idempotency-Key": "portal-once"})
    again = client.post(SESSIONS, {"subscriptionIds": [sub]}, headers={"Idempotency-Key": "portal-once"})
    assert first.status == again.status == 201, again.body
    assert first.json["token"] and "token" not in again.json and "portalUrl" not in again.json
    assert again.json["subscriptionIds"] == [sub]
