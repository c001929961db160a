"""A credential rotation whose function died after createSecret: cleaned up, Failed with the reason, unlocked."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.core import aws
from chalicelib.credentials import store as rotations
from chalicelib.credentials.versions import CURRENT, PENDING
from chalicelib.events import store as events
from chalicelib.rotation import service as rotation
from chalicelib.rotation import steps
from chalicelib.sweeper import sweep
from tests.support.api_client import ApiClient
from tests.support.fake_vendor import FakeVendor, serve_vendor
from tests.support.run_driver import connect
from tests.sweeper.conftest import indexed, later

OLD, NEW = "old-token-1", "new-token-2"


@pytest.fixture
def requested() -> list[tuple[str, str]]:
    """Stands where Secrets Manager stands: records RotateSecret calls; the test invokes the steps it wants."""
    calls: list[tuple[str, str]] = []
    rotation.register_local_invoker(lambda secret_id, token: calls.append((secret_id, token)))
    return calls


@pytest.fixture
def vendor() -> Iterator[FakeVendor]:
    with serve_vendor() as fake:
        fake.expect_bearer(OLD)
        yield fake


def stages(secret_id: str) -> dict[str, list[str]]:
    return dict(aws.secretsmanager().describe_secret(SecretId=secret_id)["VersionIdsToStages"])


def current(secret_id: str) -> Any:
    return aws.secretsmanager().get_secret_value(SecretId=secret_id, VersionStage=CURRENT)["SecretString"]


def rotate(client: ApiClient, credential_id: str) -> Any:
    body = {"credentialId": credential_id, "reason": "Manual", "credentials": {"token": NEW}}
    return client.post("/integrations/credentials/rotate", body)


def put_credentials(client: ApiClient, connection_id: str, token: str) -> Any:
    return client.request(
        "PUT", f"/integrations/connections/{connection_id}/credentials", json_body={"credentials": {"token": token}}
    )


def test_a_rotation_killed_after_create_secret_is_cleaned_failed_and_unlocked(
    client: ApiClient, vendor: FakeVendor, requested: list[tuple[str, str]], tenant: str
) -> None:
    connection_id = connect(client, vendor.url, credentials={"token": OLD})
    credential_id = client.get(f"/integrations/connections/{connection_id}").json["credentialId"]
    accepted = rotate(client, credential_id)
    assert accepted.status == 202
    [(secret_id, token)] = requested
    steps.handle({"SecretId": secret_id, "ClientRequestToken": token, "Step": "createSecret"})  # then it dies
    assert PENDING in stages(secret_id)[token]
    assert rotate(client, credential_id).status == 409 and put_credentials(client, connection_id, OLD).status == 409
    key = {"tenantId": tenant, "credentialId": credential_id}
    assert indexed(rotations.TABLE.name, key)

    sweep.run(later(600))  # before the deadline: a live rotation is left alone
    assert PENDING in stages(secret_id)[token]

    assert sweep.run(later(901)).get("rotations.failed", 0) >= 1
    assert not any(PENDING in s for s in stages(secret_id).values())
    assert current(secret_id) == f'{{"token": "{OLD}"}}'  # AWSCURRENT never moved
    detail = client.get(f"/integrations/credentials/{credential_id}").json
    assert detail["rotation"]["status"] == "Failed"
    assert "after createSecret" in detail["rotation"]["failureReason"]
    run = client.get(f"/integrations/runs/{accepted.json['verificationRunId']}").json
    assert run["status"] == "Failed" and run["error"]["message"] == detail["rotation"]["failureReason"]
    material = f"{tenant}/{credential_id}/{token}/CredentialRotationFailed"
    event = events.get(tenant, "evt-" + hashlib.sha256(material.encode()).hexdigest()[:24])
    assert event is not None and event.type == "CredentialRotationFailed"
    assert not indexed(rotations.TABLE.name, key)

    assert put_credentials(client, connection_id, OLD).status == 200  # both operations work again
    assert rotate(client, credential_id).status == 202


def test_a_failed_verification_emits_credential_rotation_failed_once(
    client: ApiClient, vendor: FakeVendor, requested: list[tuple[str, str]], tenant: str
) -> None:
    connection_id = connect(client, vendor.url, credentials={"token": OLD})
    credential_id = client.get(f"/integrations/connections/{connection_id}").json["credentialId"]
    rotate(client, credential_id)
    [(secret_id, token)] = requested
    for step in ("createSecret", "setSecret", "testSecret", "testSecret", "finishSecret"):
        steps.handle({"SecretId": secret_id, "ClientRequestToken": token, "Step": step})  # the vendor refuses NEW
    recorded = events.TABLE.query(tenant, limit=100, cursor=None).items
    assert [e["type"] for e in recorded if "rotation" in e["type"].lower()] == ["CredentialRotationFailed"]
    assert not indexed(rotations.TABLE.name, {"tenantId": tenant, "credentialId": credential_id})
