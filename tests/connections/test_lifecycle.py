"""Connection lifecycle over the API: update, new credentials, activate/deactivate, test, delete, and the 409s."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.connections import store
from chalicelib.core import aws
from chalicelib.core.config import get_settings
from chalicelib.credentials import vault
from chalicelib.events import store as events
from tests.support.api_client import ApiClient
from tests.support.fake_vendor import FakeVendor, serve_vendor
from tests.support.run_driver import connect

TOKEN = "vendor-token-1"
BASE = "/integrations/connections"


@pytest.fixture
def vendor() -> Iterator[FakeVendor]:
    with serve_vendor() as fake:
        fake.expect_bearer(TOKEN)
        yield fake


def event_types(tenant: str) -> list[str]:
    page = events.TABLE.query(tenant, limit=100, cursor=None)
    return sorted(item["type"] for item in page.items)


def secret_text(tenant: str, ref: str) -> str:
    return vault.read_text(tenant, vault.path_from_ref(ref))


def test_patch_changes_only_the_given_fields(client: ApiClient, vendor: FakeVendor, tenant: str) -> None:
    connection_id = connect(client, vendor.url)
    reply = client.request(
        "PATCH", f"{BASE}/{connection_id}", json_body={"displayName": "Renamed", "projectId": "proj-1"}
    )
    assert reply.status == 200, reply.body
    assert (reply.json["displayName"], reply.json["projectId"]) == ("Renamed", "proj-1")
    assert reply.json["configuration"] == {"baseUrl": vendor.url}
    moved = client.request(
        "PATCH", f"{BASE}/{connection_id}", json_body={"configuration": {"baseUrl": vendor.url + "/v2"}}
    )
    assert moved.json["configuration"] == {"baseUrl": vendor.url + "/v2"} and moved.json["displayName"] == "Renamed"
    assert event_types(tenant).count("ConnectionUpdated") == 2


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({}, 400),
        ({"displayName": None}, 400),
        ({"status": "Inactive"}, 400),
        ({"configuration": {"baseUrl": "file:///etc/passwd"}}, 400),
    ],
)
def test_patch_refuses_bad_bodies(client: ApiClient, vendor: FakeVendor, body: dict[str, Any], status: int) -> None:
    connection_id = connect(client, vendor.url)
    reply = client.request("PATCH", f"{BASE}/{connection_id}", json_body=body)
    assert reply.status == status, reply.body
    assert reply.json["error"]["code"] == "VALIDATION_ERROR"


def test_patch_of_an_unknown_connection_is_404(client: ApiClient) -> None:
    reply = client.request("PATCH", f"{BASE}/conn-missing", json_body={"displayName": "x"})
    assert reply.status == 404 and reply.json["error"]["code"] == "RESOURCE_NOT_FOUND"


def test_new_credentials_become_a_new_version_and_are_never_echoed(
    client: ApiClient, vendor: FakeVendor, tenant: str
) -> None:
    connection_id = connect(client, vendor.url)
    connection = client.get(f"{BASE}/{connection_id}").json
    reply = client.request("PUT", f"{BASE}/{connection_id}/credentials", json_body={"credentials": {"token": "new-1"}})
    assert reply.status == 200, reply.body
    assert b"new-1" not in reply.body
    assert reply.json["credentialId"] == connection["credentialId"]
    assert reply.json["affectedConnectionIds"] == [connection_id]
    assert secret_text(tenant, connection["credentialRef"]) == '{"token": "new-1"}'
    detail = client.get(f"/integrations/credentials/{connection['credentialId']}").json
    assert {tuple(v["stages"]) for v in detail["versions"]} == {("AWSCURRENT",), ("AWSPREVIOUS",)}
    assert b"new-1" not in client.get(f"/integrations/credentials/{connection['credentialId']}").body
    vendor.expect_bearer("new-1")
    checked = client.post(f"{BASE}/{connection_id}/health/check")
    assert checked.json["status"] == "Healthy", checked.body
    assert "ConnectionCredentialsUpdated" in event_types(tenant)


def test_new_credentials_must_fit_the_auth_mode(client: ApiClient, vendor: FakeVendor) -> None:
    connection_id = connect(client, vendor.url)
    reply = client.request(
        "PUT", f"{BASE}/{connection_id}/credentials", json_body={"credentials": {"username": "u", "password": "p"}}
    )
    assert reply.status == 400 and reply.json["error"]["details"][0]["field"] == "credentials"


def test_deactivate_then_activate_and_the_invalid_repeats(client: ApiClient, vendor: FakeVendor, tenant: str) -> None:
    connection_id = connect(client, vendor.url)
    assert store.get_item(tenant, connection_id)["sweepPartition"].startswith("sweep-")  # type: ignore[index]
    off = client.post(f"{BASE}/{connection_id}/deactivate")
    assert off.status == 200 and off.json["status"] == "Inactive" and off.json["deactivatedAt"]
    assert "sweepPartition" not in store.get_item(tenant, connection_id)  # type: ignore[operator]
    again = client.post(f"{BASE}/{connection_id}/deactivate")
    assert again.status == 409 and again.json["error"]["code"] == "CONFLICT"
    refused = client.post(f"{BASE}/{connection_id}/operations/Request", {"parameters": {"path": "/x"}})
    assert refused.status == 409
    assert client.post(f"{BASE}/{connection_id}/health/check").status == 409
    on = client.post(f"{BASE}/{connection_id}/activate")
    assert on.status == 200 and on.json["status"] == "Active" and on.json["activatedAt"]
    assert store.get_item(tenant, connection_id)["sweepPartition"] == store.sweep_partition(connection_id)  # type: ignore[index]
    assert client.post(f"{BASE}/{connection_id}/activate").status == 409
    assert client.post(f"{BASE}/conn-missing/activate").status == 404
    assert [t for t in event_types(tenant) if t.startswith("Connection")] == [
        "ConnectionActivated",
        "ConnectionCreated",
        "ConnectionDeactivated",
    ]


def test_inactive_connection_refuses_inbound_deliveries(client: ApiClient, tenant: str) -> None:
    created = client.post(
        BASE,
        {"providerId": "prov-github", "displayName": "gh", "credentials": {"token": TOKEN}},
    )
    connection_id = created.json["connectionId"]
    assert client.post(f"{BASE}/{connection_id}/deactivate").status == 200
    body = b'{"zen": "deactivated"}'
    signature = hmac.new(created.json["webhookSecret"].encode(), body, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "ping",
        "X-GitHub-Delivery": "d-1",
        "X-Hub-Signature-256": f"sha256={signature}",
    }
    delivery = client.request("POST", f"/webhooks/deliveries/{connection_id}", body=body, headers=headers, token="")
    assert delivery.status == 409, delivery.body


def test_test_reports_latency_and_message_and_records_nothing(
    client: ApiClient, vendor: FakeVendor, tenant: str
) -> None:
    connection_id = connect(client, vendor.url)
    reply = client.post(f"{BASE}/{connection_id}/test")
    assert reply.status == 200, reply.body
    result = reply.json["connectionTest"]
    assert result["success"] is True and result["latencyMs"] >= 0 and "200" in result["message"]
    assert client.get(f"{BASE}/{connection_id}/health").json["status"] == "Unknown"
    vendor.expect_bearer("someone-else")
    failed = client.post(f"{BASE}/{connection_id}/test").json["connectionTest"]
    assert failed["success"] is False and "401" in failed["message"]


def test_delete_schedules_the_secret_for_deletion(client: ApiClient, vendor: FakeVendor, tenant: str) -> None:
    connection_id = connect(client, vendor.url)
    ref = client.get(f"{BASE}/{connection_id}").json["credentialRef"]
    reply = client.request("DELETE", f"{BASE}/{connection_id}")
    assert reply.status == 200, reply.body
    assert reply.json["deleted"] is True and reply.json["credentialDeletion"] == "Scheduled"
    described = aws.secretsmanager().describe_secret(SecretId=vault.secret_name(tenant, vault.path_from_ref(ref)))
    assert "DeletedDate" in described
    assert client.get(f"{BASE}/{connection_id}").status == 404
    assert client.request("DELETE", f"{BASE}/{connection_id}").status == 404
    assert "ConnectionDeleted" in event_types(tenant)


def test_delete_keeps_a_secret_another_connection_uses(client: ApiClient, vendor: FakeVendor, tenant: str) -> None:
    vault.store_new(tenant, "shared/token", {"token": TOKEN}, description="shared")
    ids = [
        client.post(
            BASE,
            {
                "providerId": "prov-generic-http",
                "displayName": f"shared {n}",
                "credentialRef": "kv://shared/token",
                "configuration": {"baseUrl": vendor.url},
            },
        ).json["connectionId"]
        for n in range(2)
    ]
    first = client.request("DELETE", f"{BASE}/{ids[0]}").json
    assert (first["credentialDeletion"], first["credentialRetainedReason"]) == ("Retained", "SharedCredential")
    assert vault.read_text(tenant, "shared/token") == f'{{"token": "{TOKEN}"}}'
    second = client.request("DELETE", f"{BASE}/{ids[1]}").json
    assert (second["credentialDeletion"], second["credentialRetainedReason"]) == ("Retained", "CallerOwned")
    name = f"{get_settings().secret_prefix}{tenant}/shared/token"
    assert "DeletedDate" not in aws.secretsmanager().describe_secret(SecretId=name)


def test_a_shared_platform_secret_is_scheduled_when_its_last_user_goes(client: ApiClient, vendor: FakeVendor) -> None:
    """A credentialRef to a secret the platform wrote for another connection shares that secret's fate."""
    first = connect(client, vendor.url)
    ref = client.get(f"{BASE}/{first}").json["credentialRef"]
    body = {"providerId": "prov-generic-http", "displayName": "second", "credentialRef": ref}
    second = client.post(BASE, {**body, "configuration": {"baseUrl": vendor.url}}).json["connectionId"]
    assert client.get(f"{BASE}/{second}").json["credentialOwner"] == "Platform"
    kept = client.request("DELETE", f"{BASE}/{first}").json
    assert (kept["credentialDeletion"], kept["credentialRetainedReason"]) == ("Retained", "SharedCredential")
    assert client.post(f"{BASE}/{second}/test").json["connectionTest"]["success"] is True
    assert client.request("DELETE", f"{BASE}/{second}").json["credentialDeletion"] == "Scheduled"
