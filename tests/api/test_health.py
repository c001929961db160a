"""``/health`` is public and reports each AWS dependency; one failing makes it 503."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.core import aws
from chalicelib.core.context import current_trace_id
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


def test_each_check_runs_in_the_request_context(client: ApiClient) -> None:
    """The checks run on a thread pool: each in a copy of the request's context, so their calls carry its trace id
    (and, under ``make iam``, the function whose role they use: ``infra/local/calls.py``)."""
    seen: dict[str, str] = {}
    hooks = [
        (aws.dynamodb(), "before-parameter-build.dynamodb.DescribeTable"),
        (aws.sqs(), "before-parameter-build.sqs.GetQueueUrl"),
        (aws.secretsmanager(), "before-parameter-build.secretsmanager.ListSecrets"),
    ]

    def capture(model: Any, **_: Any) -> None:
        seen[model.name] = current_trace_id()

    for aws_client, event in hooks:
        aws_client.meta.events.register(event, capture, unique_id="health-context")
    try:
        reply = client.get("/health", token="", headers={"X-Correlation-Id": "health-context-1"})
    finally:
        for aws_client, event in hooks:
            aws_client.meta.events.unregister(event, unique_id="health-context")
    assert reply.status == 200, reply.body
    assert seen == {
        "DescribeTable": "health-context-1",
        "GetQueueUrl": "health-context-1",
        "ListSecrets": "health-context-1",
    }
