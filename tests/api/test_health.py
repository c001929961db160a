"""``/health`` is public and reports each AWS dependency; one failing makes it 503."""

from __future__ import annotations

import pytest

from tests.core.env import settings_env
from tests.support.api_client import ApiClient


def test_health_is_public_and_healthy(client: ApiClient) -> None:
    reply = client.get("/health", token="")
    assert reply.status == 200, reply.body
    body = reply.json
    assert body["status"] == "Healthy"
    assert {check["name"]: check["status"] for check in body["checks"]} == {
        "dynamodb": "Healthy",
        "sqs": "Healthy",
        "secretsmanager": "Healthy",
    }
    assert reply.header("X-Trace-Id")


def test_missing_tables_and_queues_make_it_503(client: ApiClient, monkeypatch: pytest.MonkeyPatch) -> None:
    with settings_env(monkeypatch, RESOURCE_PREFIX="no-such-deployment"):
        reply = client.get("/health", token="")
    assert reply.status == 503, reply.body
    body = reply.json
    assert body["status"] == "Unhealthy"
    failing = {check["name"] for check in body["checks"] if check["status"] == "Unhealthy"}
    assert failing == {"dynamodb", "sqs"}
    assert all(check.get("message") for check in body["checks"] if check["status"] == "Unhealthy")
    assert client.get("/health", token="").status == 200
