"""Subscription routes over the local gateway: the 004 shape, wildcards, secrets, CRUD, scopes."""

from __future__ import annotations

import base64
import json
from concurrent.futures import ThreadPoolExecutor

from chalicelib.core import aws
from chalicelib.core.config import get_settings
from chalicelib.credentials import vault
from infra.local.dev_issuer import DevIssuer
from tests.support.api_client import ApiClient

URL = "http://127.0.0.1:9/hooks"


def create(client: ApiClient, **fields: object) -> dict[str, object]:
    body = {"eventType": "DeploymentPromoted", "endpointUrl": URL, **fields}
    reply = client.post("/webhooks/subscriptions", body)
    assert reply.status == 201, reply.json
    result: dict[str, object] = reply.json
    return result


def test_create_answers_the_004_shape_and_returns_a_generated_secret_once(client: ApiClient, tenant: str) -> None:
    reply = client.post(
        "/webhooks/subscriptions",
        {
            "tenantId": tenant,
            "projectId": "proj-booking-saas",
            "eventType": "DeploymentPromoted",
            "endpointUrl": URL,
            "active": True,
        },
    )
    assert reply.status == 201
    body = reply.json
    assert body["subscriptionId"].startswith("sub-")
    assert body["status"] == "Active"
    assert body["eventType"] == "DeploymentPromoted"
    assert body["eventTypes"] == ["DeploymentPromoted"]
    assert body["createdAt"] and body["traceId"]
    assert reply.header("Location") == f"/webhooks/subscriptions/{body['subscriptionId']}"
    secret = body["signingSecret"]
    assert secret.startswith("whsec_") and 24 <= len(base64.b64decode(secret[6:])) <= 32

    fetched = client.get(f"/webhooks/subscriptions/{body['subscriptionId']}").json
    assert "signingSecret" not in fetched
    assert fetched["signingSecretRef"].startswith("kv://webhooks/")
    raw_item = aws.dynamodb().get_item(
        TableName=get_settings().table_name("subscriptions"),
        Key={"tenantId": {"S": tenant}, "subscriptionId": {"S": body["subscriptionId"]}},
    )["Item"]
    assert secret not in json.dumps(raw_item)


def test_event_type_lists_accept_star_and_prefix_wildcards(client: ApiClient) -> None:
    body = create(client, eventType=None, eventTypes=["PullRequest*", "*", "IssueOpened"])
    assert body["eventTypes"] == ["PullRequest*", "*", "IssueOpened"]
    assert body["eventType"] == "PullRequest*"
    for bad in (["Pull*Request"], [], ["*Suffix"], ["has space"]):
        reply = client.post("/webhooks/subscriptions", {"eventTypes": bad, "endpointUrl": URL})
        assert reply.status == 400, bad
        assert reply.json["error"]["code"] == "VALIDATION_ERROR"
    missing = client.post("/webhooks/subscriptions", {"endpointUrl": URL})
    assert missing.status == 400


def test_a_referenced_secret_is_used_and_checked(client: ApiClient, tenant: str) -> None:
    vault.store_new(tenant, "partner/hook-secret", {"signingSecret": "whsec_" + "A" * 32}, description="test")
    body = create(client, signingSecretRef="kv://partner/hook-secret")
    assert body["signingSecretRef"] == "kv://partner/hook-secret"
    assert "signingSecret" not in body
    missing = client.post(
        "/webhooks/subscriptions", {"eventType": "X", "endpointUrl": URL, "signingSecretRef": "kv://nope"}
    )
    assert missing.status == 422
    vault.store_new(tenant, "partner/not-base64", {"signingSecret": "not base64 !!"}, description="test")
    unusable = client.post(
        "/webhooks/subscriptions", {"eventType": "X", "endpointUrl": URL, "signingSecretRef": "kv://partner/not-base64"}
    )
    assert unusable.status == 422


def test_list_pages_with_a_cursor(client: ApiClient) -> None:
    created = {create(client)["subscriptionId"] for _ in range(3)}
    seen: set[str] = set()
    cursor = ""
    while True:
        reply = client.get("/webhooks/subscriptions?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        assert reply.status == 200
        seen |= {item["subscriptionId"] for item in reply.json["items"]}
        cursor = reply.json.get("nextCursor") or ""
        if not cursor:
            break
    assert seen == created


def test_patch_changes_url_types_and_state_and_delete_removes(client: ApiClient) -> None:
    sub_id = create(client)["subscriptionId"]
    path = f"/webhooks/subscriptions/{sub_id}"
    patched = client.request(
        "PATCH", path, json_body={"endpointUrl": "http://127.0.0.1:10/new", "eventTypes": ["Run*"], "active": False}
    )
    assert patched.status == 200, patched.json
    assert patched.json["endpointUrl"] == "http://127.0.0.1:10/new"
    assert patched.json["eventTypes"] == ["Run*"]
    assert patched.json["status"] == "Inactive" and patched.json["active"] is False
    enabled = client.request("PATCH", path, json_body={"active": True})
    assert enabled.json["status"] == "Active"
    assert client.request("PATCH", path, json_body={"secret": "x"}).status == 400
    assert client.request("DELETE", path).status == 204
    assert client.get(path).status == 404
    assert client.request("DELETE", path).status == 404


def test_scopes_and_tenants_are_enforced(client: ApiClient, issuer: DevIssuer, tenant: str) -> None:
    sub_id = create(client)["subscriptionId"]
    reader = issuer.token(tenant, ["webhooks.subscriptions.read"])
    assert client.get(f"/webhooks/subscriptions/{sub_id}", token=reader).status == 200
    denied = client.post("/webhooks/subscriptions", {"eventType": "X", "endpointUrl": URL}, token=reader)
    assert denied.status == 403
    other = issuer.token("tenant-other", ["webhooks.subscriptions.read", "webhooks.subscriptions.write"])
    assert client.get(f"/webhooks/subscriptions/{sub_id}", token=other).status == 404
    foreign = client.post("/webhooks/subscriptions", {"tenantId": "tenant-other", "eventType": "X", "endpointUrl": URL})
    assert foreign.status == 403
    assert client.get("/webhooks/subscriptions", token="").status == 401


def test_rotation_keeps_the_old_secret_for_the_overlap(client: ApiClient) -> None:
    created = create(client)
    path = f"/webhooks/subscriptions/{created['subscriptionId']}/rotate-secret"
    rotated = client.post(path)
    assert rotated.status == 200, rotated.json
    assert rotated.json["signingSecret"].startswith("whsec_")
    assert rotated.json["signingSecret"] != created["signingSecret"]
    assert rotated.json["previousSecretExpiresAt"]
    assert rotated.json["signingSecretRef"] != created["signingSecretRef"]
    assert client.post(path, {"overlapSeconds": -1}).status == 400
    assert client.post("/webhooks/subscriptions/sub-missing/rotate-secret").status == 404


def test_concurrent_rotations_answer_200_or_409_and_never_collide(client: ApiClient) -> None:
    created = create(client)
    path = f"/webhooks/subscriptions/{created['subscriptionId']}/rotate-secret"
    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(lambda _: client.post(path).status, range(6)))
    assert set(statuses) <= {200, 409} and 200 in statuses, statuses
    again = client.post(path)
    assert again.status == 200, again.json


def test_an_attempts_cursor_dynamodb_would_refuse_is_a_400(client: ApiClient) -> None:
    import base64
    import json

    created = create(client)
    oversized = base64.urlsafe_b64encode(json.dumps("k" * 2048).encode()).decode().rstrip("=")
    reply = client.get(f"/webhooks/subscriptions/{created['subscriptionId']}/attempts?cursor={oversized}")
    assert reply.status == 400 and reply.json["error"]["code"] == "VALIDATION_ERROR"
