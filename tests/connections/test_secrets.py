"""A credential lives only in Secrets Manager: never in DynamoDB, responses, errors or logs."""

from __future__ import annotations

import io
import json
import logging
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.core import aws
from chalicelib.core.config import get_settings
from chalicelib.core.logging import logger
from tests.core.env import settings_env
from tests.support.api_client import ApiClient, Reply

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
