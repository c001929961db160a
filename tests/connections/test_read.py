"""Reading connections: tenant isolation, the 004 read shape, paging and filters."""

from __future__ import annotations

import secrets
from typing import Any

from infra.local.dev_issuer import DevIssuer
from infra.local.gateway import LocalApi
from tests.api.expect import client_for, error_of
from tests.support.api_client import ApiClient

CONNECTIONS = "/integrations/connections"


def establish(client: ApiClient, **overrides: Any) -> str:
    body: dict[str, Any] = {
        "providerId": "prov-github",
        "displayName": "GH",
        "credentials": {"token": f"ghp_{secrets.token_hex(6)}"},
    }
    body.update(overrides)
    reply = client.post(CONNECTIONS, body)
    assert reply.status == 201, reply.body
    connection_id: str = reply.json["connectionId"]
    return connection_id


def list_all(client: ApiClient, query: str, limit: int) -> list[str]:
    seen: list[str] = []
    cursor = None
    for _ in range(50):
        reply = client.get(f"{CONNECTIONS}?limit={limit}&{query}" + (f"&cursor={cursor}" if cursor else ""))
        assert reply.status == 200, reply.body
        assert len(reply.json["items"]) <= limit
        seen.extend(item["connectionId"] for item in reply.json["items"])
        cursor = reply.json.get("nextCursor")
        if not cursor:
            return seen
    raise AssertionError("paging never ended")


def test_get_answers_the_004_shape(client: ApiClient, tenant: str) -> None:
    connection_id = establish(client, projectId="proj-a", configuration={"organization": "acme"})
    reply = client.get(f"{CONNECTIONS}/{connection_id}")
    assert reply.status == 200
    got = reply.json
    assert got["connectionId"] == connection_id
    assert got["tenantId"] == tenant
    assert got["providerId"] == "prov-github"
    assert got["status"] == "Active"
    assert got["health"] in {"Healthy", "Unknown"}
    assert got["credentialRef"] == f"kv://connections/{connection_id}"
    assert got["configuration"] == {"organization": "acme"}
    assert got["traceId"] == reply.header("X-Trace-Id")


def test_other_tenants_connection_is_404(client: ApiClient, local_api: LocalApi, issuer: DevIssuer) -> None:
    connection_id = establish(client)
    stranger = client_for(local_api, issuer)
    error_of(stranger.get(f"{CONNECTIONS}/{connection_id}"), 404, "RESOURCE_NOT_FOUND")
    assert connection_id not in list_all(stranger, "", 100)


def test_unknown_connection_is_404(client: ApiClient) -> None:
    error_of(client.get(f"{CONNECTIONS}/conn-000000000000"), 404, "RESOURCE_NOT_FOUND")
    error_of(client.get(f"{CONNECTIONS}/{'c' * 2000}"), 404, "RESOURCE_NOT_FOUND")


def test_paging_covers_every_connection_once(client: ApiClient) -> None:
    created = {establish(client) for _ in range(5)}
    seen = list_all(client, "", 2)
    assert sorted(seen) == sorted(created)


def test_filters(client: ApiClient) -> None:
    github_a = {establish(client, projectId="proj-a") for _ in range(2)}
    slack_a = establish(client, projectId="proj-a", providerId="prov-slack")
    github_b = establish(client, projectId="proj-b")
    assert sorted(list_all(client, "providerId=prov-github", 2)) == sorted([*github_a, github_b])
    assert sorted(list_all(client, "projectId=proj-a", 2)) == sorted([*github_a, slack_a])
    assert list_all(client, "projectId=proj-a&providerId=prov-slack", 1) == [slack_a]
    assert len(list_all(client, "status=Active", 3)) == 4
    assert list_all(client, "status=Inactive", 3) == []
    assert list_all(client, "providerId=prov-stripe", 10) == []


def test_empty_tenant_lists_nothing(client: ApiClient) -> None:
    reply = client.get(CONNECTIONS)
    assert reply.status == 200
    assert reply.json == {"items": []}
