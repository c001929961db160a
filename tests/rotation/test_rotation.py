"""Rotation driven exactly as Secrets Manager drives the rotation function: four steps, repeated, per token."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.core import aws
from chalicelib.core.config import get_settings
from chalicelib.credentials import vault
from chalicelib.credentials.versions import CURRENT, PENDING, PREVIOUS
from chalicelib.rotation import service as rotation
from chalicelib.rotation import steps
from tests.support.api_client import ApiClient
from tests.support.fake_vendor import FakeVendor, serve_vendor
from tests.support.run_driver import connect

OLD, NEW = "old-token-1", "new-token-2"
STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")


@pytest.fixture
def requested() -> list[tuple[str, str]]:
    """Stands where Secrets Manager stands: it records RotateSecret calls; the test then invokes the steps."""
    calls: list[tuple[str, str]] = []
    rotation.register_local_invoker(lambda secret_id, token: calls.append((secret_id, token)))
    return calls


@pytest.fixture
def vendor() -> Iterator[FakeVendor]:
    with serve_vendor() as fake:
        fake.expect_bearer(OLD)
        yield fake


def drive(secret_id: str, token: str, repeat: int = 1) -> None:
    for step in STEPS:
        for _ in range(repeat):
            steps.handle({"SecretId": secret_id, "ClientRequestToken": token, "Step": step})


def value(secret_id: str, stage: str) -> Any:
    return aws.secretsmanager().get_secret_value(SecretId=secret_id, VersionStage=stage)["SecretString"]


def setup(client: ApiClient, vendor: FakeVendor) -> dict[str, Any]:
    connection_id = connect(client, vendor.url, credentials={"token": OLD})
    return dict(client.get(f"/integrations/connections/{connection_id}").json)


def rotate(client: ApiClient, credential_id: str, new: str | None = NEW) -> Any:
    body: dict[str, Any] = {"credentialId": credential_id, "reason": "ScheduledRotation"}
    if new is not None:
        body["credentials"] = {"token": new}
    return client.post("/integrations/credentials/rotate", body)


def test_rotation_verifies_then_promotes_and_every_step_repeats_safely(
    client: ApiClient, vendor: FakeVendor, requested: list[tuple[str, str]], tenant: str
) -> None:
    connection = setup(client, vendor)
    accepted = rotate(client, connection["credentialId"])
    assert accepted.status == 202, accepted.body
    assert accepted.header("Location") == f"/integrations/credentials/{connection['credentialId']}"
    [(secret_id, token)] = requested
    assert accepted.json["status"] == "Rotating"
    assert accepted.json["newVersionRef"] == f"{connection['credentialRef']}?version={token}"
    run_id = accepted.json["verificationRunId"]
    assert client.get(f"/integrations/runs/{run_id}").json["status"] == "Pending"
    assert NEW.encode() not in client.get(f"/integrations/credentials/{connection['credentialId']}").body

    vendor.expect_bearer(NEW)  # the vendor issued the new token and revoked the old one
    drive(secret_id, token, repeat=2)
    drive(secret_id, token)  # Secrets Manager may send the whole sequence again

    assert value(secret_id, CURRENT) == f'{{"token": "{NEW}"}}'
    assert value(secret_id, PREVIOUS) == f'{{"token": "{OLD}"}}'
    run = client.get(f"/integrations/runs/{run_id}").json
    assert run["status"] == "Completed" and run["result"]["verified"] is True and run["operation"] == "VerifyCredential"
    assert len(vendor.api_requests()) == 1  # one verification call, however often testSecret came
    detail = client.get(f"/integrations/credentials/{connection['credentialId']}").json
    assert detail["rotation"]["status"] == "Rotated" and detail["lastRotatedAt"]
    assert detail["connectionIds"] == [connection["connectionId"]]
    stages = {v["versionId"]: v["stages"] for v in detail["versions"]}
    assert stages[token] == [CURRENT] and [PREVIOUS] in stages.values()
    assert vault.read_cached(tenant, vault.path_from_ref(connection["credentialRef"])) == {"token": NEW}
    checked = client.post(f"/integrations/connections/{connection['connectionId']}/health/check").json
    assert checked["status"] == "Healthy"


def test_failed_verification_keeps_current_removes_pending_and_says_why(
    client: ApiClient, vendor: FakeVendor, requested: list[tuple[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    connection = setup(client, vendor)
    accepted = rotate(client, connection["credentialId"]).json
    [(secret_id, token)] = requested
    capsys.readouterr()
    drive(secret_id, token, repeat=2)  # the vendor still only knows OLD: verification fails
    assert capsys.readouterr().out.count('"CredentialRotationFailed":[1.0]') == 1  # once, though steps repeat

    assert value(secret_id, CURRENT) == f'{{"token": "{OLD}"}}'
    stages = aws.secretsmanager().describe_secret(SecretId=secret_id)["VersionIdsToStages"]
    assert not any(PENDING in s for s in stages.values())
    run = client.get(f"/integrations/runs/{accepted['verificationRunId']}").json
    assert run["status"] == "Failed" and run["error"]["code"] == "CREDENTIAL_VERIFICATION_FAILED"
    assert run["error"]["vendorStatus"] == 401 and "401" in run["error"]["message"]
    detail = client.get(f"/integrations/credentials/{connection['credentialId']}").json
    assert detail["rotation"]["status"] == "Failed" and "401" in detail["rotation"]["failureReason"]
    assert detail.get("lastRotatedAt") is None
    assert rotate(client, connection["credentialId"]).status == 202  # nothing left in progress


def test_a_verification_the_vendor_rate_limit_holds_back_fails_the_rotation_without_calling(
    client: ApiClient, vendor: FakeVendor, requested: list[tuple[str, str]]
) -> None:
    one_a_minute = {"rateLimit": {"requestsPerSecond": 1 / 60, "burst": 1}}
    connection_id = connect(client, vendor.url, credentials={"token": OLD}, configuration=one_a_minute)
    connection = client.get(f"/integrations/connections/{connection_id}").json
    assert client.post(f"/integrations/connections/{connection_id}/test").status == 200  # the minute's one call
    accepted = rotate(client, connection["credentialId"]).json
    [(secret_id, token)] = requested
    vendor.expect_bearer(NEW)
    drive(secret_id, token)
    assert len(vendor.api_requests()) == 1  # the verification was held back, not sent
    assert value(secret_id, CURRENT) == f'{{"token": "{OLD}"}}'
    run = client.get(f"/integrations/runs/{accepted['verificationRunId']}").json
    assert run["status"] == "Failed" and "RATE_LIMITED" in run["error"]["message"]
    detail = client.get(f"/integrations/credentials/{connection['credentialId']}").json
    assert detail["rotation"]["status"] == "Failed" and "RATE_LIMITED" in detail["rotation"]["failureReason"]


def test_a_second_rotation_while_one_runs_is_409(
    client: ApiClient, vendor: FakeVendor, requested: list[tuple[str, str]]
) -> None:
    connection = setup(client, vendor)
    assert rotate(client, connection["credentialId"]).status == 202
    second = rotate(client, connection["credentialId"], "another-3")
    assert second.status == 409 and second.json["error"]["code"] == "CONFLICT"
    changed = client.request(
        "PUT",
        f"/integrations/connections/{connection['connectionId']}/credentials",
        json_body={"credentials": {"token": "x"}},
    )
    assert changed.status == 409
    assert len(requested) == 1


def test_steps_with_an_unknown_token_are_refused(
    client: ApiClient, vendor: FakeVendor, requested: list[tuple[str, str]]
) -> None:
    connection = setup(client, vendor)
    rotate(client, connection["credentialId"])
    [(secret_id, _token)] = requested
    with pytest.raises(steps.RotationContractError):
        steps.handle({"SecretId": secret_id, "ClientRequestToken": "not-this-one", "Step": "testSecret"})
    with pytest.raises(steps.RotationContractError):
        steps.handle({"SecretId": secret_id, "ClientRequestToken": "x", "Step": "dropSecret"})


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"credentialId": "cred-unknown", "credentials": {"token": "x"}}, 404),
        ({"credentialId": "{own}"}, 422),
        ({"credentialId": "{own}", "credentials": {"apiKey": "x"}}, 400),
        ({"credentialId": "{own}", "tenantId": "someone-else", "credentials": {"token": "x"}}, 403),
    ],
)
def test_rotate_refuses_what_it_cannot_do(
    client: ApiClient, vendor: FakeVendor, requested: list[tuple[str, str]], body: dict[str, Any], status: int
) -> None:
    connection = setup(client, vendor)
    if body["credentialId"] == "{own}":
        body = {**body, "credentialId": connection["credentialId"]}
    reply = client.post("/integrations/credentials/rotate", body)
    assert reply.status == status, reply.body
    assert requested == []


def test_oauth2_client_credentials_rotate_without_a_supplied_value(
    client: ApiClient, vendor: FakeVendor, requested: list[tuple[str, str]]
) -> None:
    vendor.expect_oauth_client("client-1", "secret-1")
    connection_id = connect(
        client,
        vendor.url,
        auth_mode="OAuth2ClientCredentials",
        credentials={"clientId": "client-1", "clientSecret": "secret-1", "tokenUrl": f"{vendor.url}/oauth/token"},
    )
    credential_id = client.get(f"/integrations/connections/{connection_id}").json["credentialId"]
    accepted = rotate(client, credential_id, None)
    assert accepted.status == 202, accepted.body
    [(secret_id, token)] = requested
    drive(secret_id, token)
    assert client.get(f"/integrations/runs/{accepted.json['verificationRunId']}").json["status"] == "Completed"
    assert aws.secretsmanager().describe_secret(SecretId=secret_id)["VersionIdsToStages"][token] == [CURRENT]


def test_a_stage_without_a_rotation_function_refuses_and_keeps_current(
    client: ApiClient, vendor: FakeVendor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``chalice local --stage dev``: no ROTATION_FUNCTION_ARN. moto's RotateSecret would move AWSCURRENT to an
    empty version; the API answers 409 before claiming anything, and the credential stays readable."""
    connection = setup(client, vendor)
    secret_id = vault.secret_name(connection["tenantId"], vault.path_from_ref(connection["credentialRef"]))
    bare = dataclasses.replace(get_settings(), rotation_invoker="secretsmanager", rotation_function_arn="")
    monkeypatch.setattr(rotation, "get_settings", lambda: bare)
    reply = rotate(client, connection["credentialId"])
    assert reply.status == 409, reply.body
    assert reply.json["error"]["code"] == "CONFLICT" and "rotation function" in reply.json["error"]["message"]
    assert OLD in value(secret_id, CURRENT)
    assert client.get(f"/integrations/credentials/{connection['credentialId']}").json.get("rotation") is None
