"""What the numbers tests share: a fake vendor, the real runs and dispatch handlers, and AWS-call hooks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from chalicelib.core import aws
from chalicelib.core.config import get_settings
from tests.outbound.conftest import QueueDriver
from tests.runs.conftest import TOKEN, vendor  # noqa: F401  (the fake vendor that wants TOKEN)


@pytest.fixture
def run_handler(local_api: object) -> Any:
    from app import run_operations

    return run_operations


@pytest.fixture
def driver(local_api: object) -> QueueDriver:
    return QueueDriver()


def _is_stats_write(params: dict[str, Any]) -> bool:
    return bool(params.get("TableName") == get_settings().table_name("stats"))


@pytest.fixture
def stats_writes(local_api: object) -> Iterator[list[dict[str, Any]]]:
    """Every ``UpdateItem`` on the stats table, as sent (the shared client: pool threads included)."""
    seen: list[dict[str, Any]] = []

    def hook(params: dict[str, Any], **_: Any) -> None:
        if _is_stats_write(params):
            seen.append(dict(params))

    events = aws.dynamodb().meta.events
    events.register("before-parameter-build.dynamodb.UpdateItem", hook, unique_id="stats-writes")
    yield seen
    events.unregister("before-parameter-build.dynamodb.UpdateItem", unique_id="stats-writes")


@pytest.fixture
def throttled_stats(local_api: object) -> Iterator[Callable[[], int]]:
    """Every stats write fails as a throttled DynamoDB answers; the fixture counts the refusals."""
    refused = [0]

    def hook(params: dict[str, Any], **_: Any) -> None:
        if _is_stats_write(params):
            refused[0] += 1
            code, message = "ProvisionedThroughputExceededException", "Rate of requests exceeds"
            raise ClientError({"Error": {"Code": code, "Message": message}}, "UpdateItem")

    events = aws.dynamodb().meta.events
    events.register("before-parameter-build.dynamodb.UpdateItem", hook, unique_id="stats-throttled")
    yield lambda: refused[0]
    events.unregister("before-parameter-build.dynamodb.UpdateItem", unique_id="stats-throttled")


@pytest.fixture
def connect_inbound(client: Any) -> Callable[[], tuple[str, str]]:
    """A GitHub connection that receives webhooks: its id and the generated webhook secret."""

    def make() -> tuple[str, str]:
        body = {"providerId": "prov-github", "displayName": "inbound", "credentials": {"token": TOKEN}}
        created = client.post("/integrations/connections", body)
        assert created.status == 201, created.body
        return str(created.json["connectionId"]), str(created.json["webhookSecret"])

    return make
