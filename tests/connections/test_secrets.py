"""A credential lives only in Secrets Manager: never in DynamoDB, responses, errors or logs."""

from __future__ import annotations

import io
import json
import logging
import secrets
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from chalicelib.connections import store
from chalicelib.core import aws
from chalicelib.core.config import get_settings
from chalicelib.core.logging import logger
from chalicelib.rotation.service import register_local_invoker
from tests.api.expect import error_of, fields_of
from tests.core.env import settings_env
from tests.runs.conftest import PR
from tests.support.api_client import ApiClient, Reply
from tests.support.fake_vendor import FakeVendor, serve_vendor
from tests.support.run_driver import connect

CONNECTIONS = "/integrations/connections"


def fresh_secrets() -> dict[str, str]:
    return {name: f"{name}-{secrets.token_urlsafe(24)}" for name in ("token", "apiKey", "password", "clientSecret")}


def establish_all(client: ApiClient, values: dict[str, str]) -> list[Reply]:
    bodies: list[dict[str, Any]] = [
        {"providerId": "prov-github", "credentials": {"token": values["token"]}},
        {"providerId": "prov-generic-http", "authMode": "ApiKey", "credentials": {"apiKey": values["apiKey"]}},
        {"providerId": "prov-jira", "credentials": {"username": "bot", "password": values["password"]}},
        {
            "providerId": "prov-stripe",
            "authMode": "OAuth2ClientCredentials",
            "credentials": {"clientId": "cid", "clientSecret": values["clientSecret"]},
        },
    ]
    replies = [client.post(CONNECTIONS, {"displayName": "secret test", **body}) for body in bodies]
    assert [reply.status for reply in replies] == [201] * 4, [reply.body for reply in replies]
    return replies


def every_dynamodb_item() -> str:
    """A test may scan; request paths may not."""
    client = aws.dynamodb()
    dumped = []
    for table in client.list_tables()["TableNames"]:
        for page in client.get_paginator("scan").paginate(TableName=table):
            dumped.append(json.dumps(page["Items"], default=str))
    return "\n".join(dumped)


class Everything(logging.Handler):
    """Keeps every attribute of every record (message, extra keys, traceback), not just the formatted line."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.buffer = io.StringIO()

    def emit(self, record: logging.LogRecord) -> None:
        text = logging.Formatter().format(record)
        self.buffer.write(json.dumps({**record.__dict__, "formatted": text}, default=str) + "\n")


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """Everything our logger and any library logger writes, at the most verbose level."""
    handler = Everything()
    service_logger = logging.getLogger(logger.name)
    root = logging.getLogger()
    previous = (service_logger.level, root.level)
    service_logger.addHandler(handler)
    root.addHandler(handler)
    service_logger.setLevel(logging.DEBUG)
    root.setLevel(logging.INFO)
    try:
        yield handler.buffer
    finally:
        service_logger.removeHandler(handler)
        root.removeHandler(handler)
        service_logger.setLevel(previous[0])
        root.setLevel(previous[1])


def test_secrets_stay_in_secrets_manager(client: ApiClient, tenant: str) -> None:
    values = fresh_secrets()
    replies = establish_all(client, values)
    ids = [reply.json["connectionId"] for reply in replies]
    reads = [client.get(f"{CONNECTIONS}/{connection_id}") for connection_id in ids] + [client.get(CONNECTIONS)]
    stored = every_dynamodb_item()
    assert all(connection_id in stored for connection_id in ids)
    for value in values.values():
        assert value not in stored
        for reply in replies + reads:
            assert value.encode() not in reply.body
    manager = aws.secretsmanager()
    for connection_id, field in zip(ids, ("token", "apiKey", "password", "clientSecret"), strict=True):
        name = f"{get_settings().resource_prefix}/{tenant}/connections/{connection_id}"
        assert json.loads(manager.get_secret_value(SecretId=name)["SecretString"])[field] == values[field]
        tags = {tag["Key"]: tag["Value"] for tag in manager.describe_secret(SecretId=name).get("Tags", [])}
        assert tags.get("tenantId") == tenant


def test_rejected_requests_do_not_echo_secrets(client: ApiClient) -> None:
    value = f"tok-{secrets.token_urlsafe(24)}"
    rejected = [
        client.post(CONNECTIONS, {"providerId": "prov-nope", "displayName": "x", "credentials": {"token": value}}),
        client.post(
            CONNECTIONS,
            {"providerId": "prov-github", "displayName": "x", "authMode": "ApiKey", "credentials": {"token": value}},
        ),
        client.post(CONNECTIONS, {"providerId": "prov-github", "displayName": "x", "credentials": {"token": [value]}}),
        client.post(CONNECTIONS, {"providerId": "prov-github", "credentials": {"token": value, "x": value}}),
        client.post(CONNECTIONS, body=b'{"credentials": {"token": "' + value.encode() + b'"', headers={}),
    ]
    assert all(400 <= reply.status < 500 for reply in rejected), [r.body for r in rejected]
    for reply in rejected:
        assert value.encode() not in reply.body
    assert value not in every_dynamodb_item()


def test_logs_never_contain_the_secret(
    client: ApiClient, captured_logs: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    values = fresh_secrets()
    establish_all(client, values)
    body = {"providerId": "prov-nope", "displayName": "x", "credentials": {"token": values["token"]}}
    assert client.post(CONNECTIONS, body).status == 422
    body = {"providerId": "prov-github", "displayName": "x", "credentials": {"token": values["token"]}}
    with settings_env(monkeypatch, RESOURCE_PREFIX="no-such-deployment"):
        failed = client.post(CONNECTIONS, body)  # the table is missing: a logged 500 with the secret in flight
    assert failed.status == 500 and values["token"].encode() not in failed.body
    output = captured_logs.getvalue()
    assert "request failed" in output and "ResourceNotFoundException" in output
    for value in values.values():
        assert value not in output


# Who owns the secret: only what the platform wrote is ever scheduled for deletion.


def caller_secret(tenant: str, path: str, value: str = '{"token": "vendor-token-1"}') -> str:
    """A secret the tenant put in Secrets Manager itself (not through the platform); its ``kv://`` reference."""
    aws.secretsmanager().create_secret(Name=f"{get_settings().secret_prefix}{tenant}/{path}", SecretString=value)
    return f"kv://{path}"


def described(tenant: str, path: str) -> dict[str, Any]:
    return dict(aws.secretsmanager().describe_secret(SecretId=f"{get_settings().secret_prefix}{tenant}/{path}"))


@pytest.fixture
def vendor() -> Iterator[FakeVendor]:
    with serve_vendor() as fake:
        fake.expect_bearer("vendor-token-1")
        yield fake


def by_ref(client: ApiClient, ref: str, base_url: str) -> str:
    body = {
        "providerId": "prov-generic-http",
        "displayName": "own secret",
        "credentialRef": ref,
        "configuration": {"baseUrl": base_url},
    }
    reply = client.post(CONNECTIONS, body)
    assert reply.status == 201, reply.body
    return str(reply.json["connectionId"])


def test_deleting_a_connection_keeps_the_callers_own_secret(client: ApiClient, vendor: FakeVendor, tenant: str) -> None:
    ref = caller_secret(tenant, "team/vendor-token")
    first = by_ref(client, ref, vendor.url)
    assert client.get(f"{CONNECTIONS}/{first}").json["credentialOwner"] == "Caller"
    deleted = client.request("DELETE", f"{CONNECTIONS}/{first}")
    assert deleted.status == 200, deleted.body
    assert (deleted.json["credentialDeletion"], deleted.json["credentialRetainedReason"]) == ("Retained", "CallerOwned")
    assert "DeletedDate" not in described(tenant, "team/vendor-token")
    second = by_ref(client, ref, vendor.url)
    tested = client.post(f"{CONNECTIONS}/{second}/test")
    assert tested.status == 200, tested.body
    assert tested.json["connectionTest"]["success"] is True


def test_inline_credentials_are_the_platforms_and_scheduled_on_delete(
    client: ApiClient, vendor: FakeVendor, tenant: str
) -> None:
    connection_id = connect(client, vendor.url)
    assert client.get(f"{CONNECTIONS}/{connection_id}").json["credentialOwner"] == "Platform"
    deleted = client.request("DELETE", f"{CONNECTIONS}/{connection_id}").json
    assert deleted["credentialDeletion"] == "Scheduled" and "credentialRetainedReason" not in deleted
    assert "DeletedDate" in described(tenant, f"connections/{connection_id}")


def forget_owners(tenant: str, connection_id: str) -> None:
    """The item as written before owners were recorded."""
    aws.dynamodb().update_item(
        TableName=store.TABLE.name,
        Key=store.TABLE.key(tenant, connection_id),
        UpdateExpression="REMOVE credentialOwner, webhookSecretOwner",
    )


def test_items_without_an_owner_keep_everything_but_the_platforms_own_paths(
    client: ApiClient, vendor: FakeVendor, tenant: str
) -> None:
    ref = caller_secret(tenant, "legacy/token")
    by_caller, inline = by_ref(client, ref, vendor.url), connect(client, vendor.url)
    for connection_id in (by_caller, inline):
        forget_owners(tenant, connection_id)
    assert client.get(f"{CONNECTIONS}/{by_caller}").json["credentialOwner"] == "Caller"
    kept = client.request("DELETE", f"{CONNECTIONS}/{by_caller}").json
    assert (kept["credentialDeletion"], kept["credentialRetainedReason"]) == ("Retained", "CallerOwned")
    assert "DeletedDate" not in described(tenant, "legacy/token")
    assert client.request("DELETE", f"{CONNECTIONS}/{inline}").json["credentialDeletion"] == "Scheduled"


def test_a_callers_webhook_secret_is_kept_and_a_generated_one_deleted(client: ApiClient, tenant: str) -> None:
    ref = caller_secret(tenant, "hooks/github", '{"webhookSecret": "whsec_mine"}')
    base = {"providerId": "prov-github", "displayName": "hooks", "credentials": {"token": "t"}}
    theirs = client.post(CONNECTIONS, {**base, "webhookSecretRef": ref}).json["connectionId"]
    ours = client.post(CONNECTIONS, base).json["connectionId"]
    assert client.get(f"{CONNECTIONS}/{theirs}").json["webhookSecretOwner"] == "Caller"
    assert client.request("DELETE", f"{CONNECTIONS}/{theirs}").json["webhookSecretDeletion"] == "Retained"
    assert "DeletedDate" not in described(tenant, "hooks/github")
    assert client.request("DELETE", f"{CONNECTIONS}/{ours}").json["webhookSecretDeletion"] == "Deleted"
    with pytest.raises(aws.secretsmanager().exceptions.ResourceNotFoundException):
        described(tenant, f"connections/{ours}/webhook")


def force_delete(name: str) -> None:
    aws.secretsmanager().delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)


def schedule(name: str) -> None:
    aws.secretsmanager().delete_secret(SecretId=name, RecoveryWindowInDays=7)


def not_json(name: str) -> None:
    aws.secretsmanager().put_secret_value(SecretId=name, SecretString="token=abc")


def wrong_shape(name: str) -> None:
    aws.secretsmanager().put_secret_value(SecretId=name, SecretString='{"apiKey": "abc"}')


BREAKERS = [force_delete, schedule, not_json, wrong_shape]
GONE = {force_delete, schedule}


@pytest.mark.parametrize("breaker", BREAKERS, ids=[b.__name__ for b in BREAKERS])
def test_a_secret_broken_behind_the_platforms_back_is_a_409_on_every_route(
    client: ApiClient, vendor: FakeVendor, tenant: str, breaker: Callable[[str], None]
) -> None:
    connection_id = connect(client, vendor.url, provider_id="prov-github")
    connection = client.get(f"{CONNECTIONS}/{connection_id}").json
    breaker(f"{get_settings().secret_prefix}{tenant}/connections/{connection_id}")
    path = f"{CONNECTIONS}/{connection_id}"
    replies = {
        "test": client.post(f"{path}/test"),
        "health": client.post(f"{path}/health/check"),
        "run": client.post(f"{path}/operations/OpenPullRequest", {"parameters": PR}),
    }
    credential = f"/integrations/credentials/{connection['credentialId']}"
    rotation = {"credentialId": connection["credentialId"], "credentials": {"token": "new"}}
    if breaker in GONE:
        replies["credentials read"] = client.get(credential)
    if breaker is not wrong_shape:  # a supplied value may repair a wrong shape
        register_local_invoker(lambda secret_id, token: None)  # a stage that can rotate; the secret is what fails
        replies["rotate"] = client.post("/integrations/credentials/rotate", rotation)
    if breaker is schedule:
        replies["new credentials"] = client.request(
            "PUT", f"{path}/credentials", json_body={"credentials": {"token": "n"}}
        )
    for route, reply in replies.items():
        message = error_of(reply, 409, "CREDENTIAL_UNAVAILABLE")["message"]
        assert f"kv://connections/{connection_id}" in message, (route, message)
    health = client.get(f"{path}/health").json
    assert health["status"] == "Unhealthy"
    assert {c["name"]: c["status"] for c in health["checks"]}["credential"] == "failed"
    assert vendor.api_requests() == []


def test_a_credential_ref_scheduled_for_deletion_is_refused_on_create(
    client: ApiClient, vendor: FakeVendor, tenant: str
) -> None:
    ref = caller_secret(tenant, "soon/gone")
    schedule(f"{get_settings().secret_prefix}{tenant}/soon/gone")
    body = {"providerId": "prov-generic-http", "displayName": "x", "credentialRef": ref}
    error = error_of(client.post(CONNECTIONS, body), 422, "UNPROCESSABLE_ENTITY")
    assert fields_of(error) == {"credentialRef"} and "scheduled for deletion" in error["message"]
