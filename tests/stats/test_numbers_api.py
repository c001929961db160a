"""The numbers through the API: connection and subscription ``stats``, 001's health shape, ``GET /metrics``.

Every figure is checked against what the test did (3 runs completed and 1 failed is a success
rate of 0.75), and the stats writes are counted: one per (series, hour) per handler batch.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from chalicelib.core.timestamps import now_text
from chalicelib.stats import record
from tests.api.expect import client_for, error_of
from tests.inbound import signers
from tests.inbound.conftest import json_bytes, post_delivery
from tests.outbound.conftest import QueueDriver
from tests.outbound.helpers import attempts, publish, subscribe
from tests.support.api_client import ApiClient
from tests.support.fake_vendor import Behavior, FakeVendor
from tests.support.receiver import serve_receiver
from tests.support.run_driver import connect, invoke, receive, runs_queue, start
from tests.support.waiting import poll

BASE = "/integrations/connections"
REPO = {"owner": "octo", "repo": "hello"}


def run_batch(client: ApiClient, tenant: str, handler: Any, connection_id: str, count: int) -> set[str]:
    """Start ``count`` runs and hand all their messages to the runs handler in ONE invocation."""
    for _ in range(count):
        start(client, connection_id, "GetRepository", REPO)
    messages: list[Any] = []
    for _ in range(20):
        messages += receive(runs_queue(), tenant)
        if len(messages) >= count:
            break
    assert len(messages) == count
    return invoke(handler, runs_queue(), messages)


def totals(series: dict[str, Any], group: str) -> dict[str, int]:
    """A series' points summed per counter of one group (``runs``, ``calls``...), latencies left out."""
    summed: dict[str, int] = {}
    for point in series["points"]:
        for name, value in point[group].items():
            if "Latency" not in name:
                summed[name] = summed.get(name, 0) + value
    return summed


def hours_of(writes: list[dict[str, Any]]) -> list[str]:
    """The hour items written (a minute item's key ends ``#m``: one more write per minute the batch saw)."""
    return [write["Key"]["hour"]["S"] for write in writes if not write["Key"]["seriesKey"]["S"].endswith("#m")]


def test_three_completed_runs_and_one_failure_read_as_075(
    client: ApiClient, tenant: str, vendor: FakeVendor, run_handler: Any, stats_writes: list[dict[str, Any]]
) -> None:
    connection_id = connect(client, vendor.url, provider_id="prov-github")
    vendor.fail_next(Behavior(404, {"message": "Not Found"}))  # one of the four: a final failure
    assert run_batch(client, tenant, run_handler, connection_id, 4) == set()
    # One hour item for the batch's 4 vendor calls and 4 run outcomes (two only if an hour turned), and its minute's.
    assert len(hours_of(stats_writes)) == len(set(hours_of(stats_writes))) <= 2
    assert len(stats_writes) - len(hours_of(stats_writes)) <= 2

    stats = client.get(f"{BASE}/{connection_id}").json["stats"]
    assert stats["windowDays"] == 30
    assert (stats["totalCalls"], stats["failedCalls"], stats["successRate"]) == (4, 1, 0.75)
    assert stats["averageResponseTimeMs"] >= 0 and stats["p95ResponseTimeMs"] >= stats["p50ResponseTimeMs"] >= 0
    assert stats["lastUsedAt"] <= now_text()

    for granularity in ("minute", "hour", "day"):
        query = f"/metrics?connectionId={connection_id}&granularity={granularity}"
        series = client.get(query).json
        assert series["granularity"] == granularity and series["connectionId"] == connection_id
        assert totals(series, "runs") == {"completed": 3, "failed": 1}, granularity
        assert totals(series, "calls") == {"total": 4, "failed": 1}, granularity
    whole_tenant = client.get("/metrics").json
    assert totals(whole_tenant, "runs") == {"completed": 3, "failed": 1}
    assert totals(whole_tenant, "outbound") == {"delivered": 0, "failed": 0}


def test_health_answers_001s_checks_and_metrics(client: ApiClient, vendor: FakeVendor) -> None:
    connection_id = connect(client, vendor.url)
    github_headers = {"X-RateLimit-Remaining": "300", "X-RateLimit-Limit": "5000", "X-OAuth-Scopes": "repo, read:org"}
    vendor.fail_next(Behavior(200, {"login": "octo"}, github_headers))
    checked = client.post(f"{BASE}/{connection_id}/health/check")
    assert checked.status == 200, checked.body
    health = checked.json
    assert health["status"] == "Healthy" and health["lastCheck"] and health["message"]
    assert [(c["name"], c["status"]) for c in health["checks"]] == [
        ("connection", "passed"),
        ("authentication", "passed"),
        ("rateLimit", "warning"),  # 6 % left: below the 10 % line
        ("permissions", "passed"),
        ("circuitBreaker", "passed"),  # read live, after the stored checks
    ]
    connection_check, _, rate_limit, permissions, _ = health["checks"]
    assert connection_check["latencyMs"] >= 0
    assert rate_limit["message"] == "Rate limit: 300/5000 remaining"
    assert permissions["message"] == "Granted scopes: repo, read:org"
    assert health["metrics"] == {
        "successRate24h": 1.0,
        "averageLatencyMs": health["metrics"]["averageLatencyMs"],
        "errorRate": 0.0,
        "totalCalls24h": 1,
    }
    vendor.expect_bearer("revoked")
    client.post(f"{BASE}/{connection_id}/health/check")
    again = client.get(f"{BASE}/{connection_id}/health").json
    assert [(c["name"], c["status"]) for c in again["checks"]] == [
        ("connection", "passed"),
        ("authentication", "failed"),
        ("circuitBreaker", "passed"),  # a 401 means the vendor is up
    ]
    metrics = again["metrics"]
    assert (metrics["totalCalls24h"], metrics["successRate24h"], metrics["errorRate"]) == (2, 0.5, 0.5)
    test = client.post(f"{BASE}/{connection_id}/test").json  # a connection test is a vendor call too
    assert test["connectionTest"]["success"] is False
    assert client.get(f"{BASE}/{connection_id}").json["stats"]["totalCalls"] == 3


def test_a_batch_of_deliveries_is_one_stats_write_and_subscription_stats_have_percentiles(
    client: ApiClient, tenant: str, driver: QueueDriver, stats_writes: list[dict[str, Any]]
) -> None:
    with serve_receiver() as receiver:
        sub = subscribe(client, receiver, ["Numbers*"])
        for n in range(5):
            publish(client, "NumbersCounted", {"n": n})
        # Fan-out is at least once (a stream batch retried after a transient failure sends its records
        # again); this test is about the dispatcher's stats batching, so it keeps one message per event.
        by_event: dict[str, dict[str, Any]] = {}
        for _ in range(20):
            for message in driver.receive():
                by_event.setdefault(json.loads(message["Body"])["eventId"], message)
            if len(by_event) >= 5:
                break
        messages = list(by_event.values())
        assert len(messages) == 5
        stats_writes.clear()
        assert driver.invoke(messages).get("batchItemFailures") == []
        assert len(receiver.accepted_ids) == 5
    # Five records to one subscription: one hour item (two only if an hour turned) and its minute's, not one per record.
    assert len(hours_of(stats_writes)) == len(set(hours_of(stats_writes))) <= 2
    assert len(stats_writes) - len(hours_of(stats_writes)) <= 2
    stats = client.get(f"/webhooks/subscriptions/{sub['subscriptionId']}").json["stats"]
    assert (stats["totalCalls"], stats["failedCalls"], stats["successRate"]) == (5, 0, 1.0)
    assert stats["p95ResponseTimeMs"] >= stats["p50ResponseTimeMs"] >= 0 and stats["lastUsedAt"]
    series = client.get(f"/metrics?subscriptionId={sub['subscriptionId']}&granularity=minute").json
    assert totals(series, "outbound") == {"delivered": 5, "failed": 0}
    assert totals(series, "runs") == {"completed": 0, "failed": 0}


def test_inbound_accepted_duplicate_and_rejected_are_counted(
    client: ApiClient,
    connect_inbound: Callable[[], tuple[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Accepted, repeated and refused deliveries are tallied in the container: the first written at once, the next
    after the interval."""
    monkeypatch.setattr(record, "HELD", record.Amortized(interval=0.5))
    connection_id, secret = connect_inbound()
    body = json_bytes({"action": "opened", "number": 1})
    headers = {"X-GitHub-Event": "pull_request", "X-GitHub-Delivery": str(uuid.uuid4())}
    signed = {**headers, **signers.github(secret, body)}
    assert post_delivery(client, connection_id, body, signed).status == 202
    assert post_delivery(client, connection_id, body, signed).status == 200
    forged = {**headers, **signers.github("not-the-secret", body)}
    assert post_delivery(client, connection_id, body, forged).status == 401
    series = client.get(f"/metrics?connectionId={connection_id}").json
    assert totals(series, "inbound")["accepted"] == 1  # the first tally of a quiet connection: written at once

    def counted() -> dict[str, int] | None:  # each GET ends by writing what is held, once its interval passed
        found = totals(client.get(f"/metrics?connectionId={connection_id}").json, "inbound")
        return found if found["rejected"] and found["duplicate"] else None

    assert poll(counted, "the held repeat and refusal written by a later request") == {
        "accepted": 1,
        "duplicate": 1,
        "rejected": 1,
    }


def test_a_throttled_stats_table_fails_nothing_it_counts(
    client: ApiClient,
    tenant: str,
    vendor: FakeVendor,
    run_handler: Any,
    driver: QueueDriver,
    throttled_stats: Callable[[], int],
    connect_inbound: Callable[[], tuple[str, str]],
) -> None:
    connection_id = connect(client, vendor.url, provider_id="prov-github")
    assert run_batch(client, tenant, run_handler, connection_id, 2) == set()
    runs = client.get(f"/integrations/runs?connectionId={connection_id}").json["items"]
    assert [run["status"] for run in runs] == ["Completed", "Completed"]
    assert client.post(f"{BASE}/{connection_id}/health/check").json["status"] == "Healthy"
    with serve_receiver() as receiver:
        sub = subscribe(client, receiver, ["Throttled*"])
        publish(client, "ThrottledStats", {})
        driver.drain()
        assert len(receiver.accepted_ids) == 1 and driver.reported_failures == 0
    assert [a["status"] for a in attempts(client, sub["subscriptionId"])] == ["Succeeded"]
    hook_id, secret = connect_inbound()
    body = json_bytes({"action": "opened"})
    signed = {"X-GitHub-Event": "issues", "X-GitHub-Delivery": "d-1", **signers.github(secret, body)}
    assert post_delivery(client, hook_id, body, signed).status == 202
    assert throttled_stats() >= 4  # runs batch, health check, delivery batch, inbound: each refused, each dropped
    stats = client.get(f"{BASE}/{connection_id}").json["stats"]
    assert stats["totalCalls"] == 0 and "successRate" not in stats  # nothing counted reads as "no numbers"


def test_bad_windows_are_400(client: ApiClient) -> None:
    cases = {
        "from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z": "before",
        "granularity=minute&from=2026-01-01T00:00:00Z&to=2026-01-03T00:00:00Z": "at most 1440",
        "granularity=week": "granularity",
        "from=2026-01-01T00:00:00": "from",
        "connectionId=c&subscriptionId=s": "not both",
        "from=0001-01-01T00:00:00%2B01:00": "between 2000-01-01",
        "granularity=day&to=9999-12-31T23:59:59Z": "between 2000-01-01",
        "from=1999-12-31T00:00:00Z&to=2000-01-01T01:00:00Z": "between 2000-01-01",
    }
    for query, words in cases.items():
        reply = client.get(f"/metrics?{query}")
        error = error_of(reply, 400, "VALIDATION_ERROR")
        assert words in str(error), (query, error)


def test_another_tenants_numbers_stay_theirs(
    client: ApiClient, tenant: str, vendor: FakeVendor, run_handler: Any, local_api: object, issuer: Any
) -> None:
    connection_id = connect(client, vendor.url, provider_id="prov-github")
    assert run_batch(client, tenant, run_handler, connection_id, 1) == set()
    other = client_for(local_api, issuer)  # type: ignore[arg-type]
    assert totals(other.get("/metrics").json, "runs") == {"completed": 0, "failed": 0}
    error_of(other.get(f"/metrics?connectionId={connection_id}"), 404, "RESOURCE_NOT_FOUND")
    error_of(other.get("/metrics?subscriptionId=sub-000000000000"), 404, "RESOURCE_NOT_FOUND")
    assert totals(client.get("/metrics").json, "runs") == {"completed": 1, "failed": 0}
