"""Health-check jobs that failed every try: the connection shows the check could not run, once announced.

The check job fails the way AWS would fail it: DynamoDB refuses reads of the
connections table while the real ``health_checks`` handler runs, until moto
moves the job to the DLQ after ``maxReceiveCount``. Then the real
``health_check_dead_letters`` handler takes it from the DLQ.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pytest

from chalicelib.core import aws
from chalicelib.core.config import get_settings
from chalicelib.core.ids import new_id
from tests.support.api_client import ApiClient
from tests.support.events import recorded
from tests.support.fake_vendor import FakeVendor, serve_vendor
from tests.support.run_driver import connect, invoke, queue_url

if TYPE_CHECKING:
    from mypy_boto3_sqs.type_defs import MessageTypeDef

MAX_RECEIVE_COUNT = 5
BASE = "/integrations/connections"


@pytest.fixture
def vendor() -> Iterator[FakeVendor]:
    with serve_vendor() as fake:
        fake.expect_bearer("vendor-token-1")
        yield fake


@contextmanager
def connection_reads_failing() -> Iterator[None]:
    dynamodb = aws.dynamodb().meta.events
    table = get_settings().table_name("connections")

    def fail(params: dict[str, Any], **_: Any) -> None:
        if params.get("TableName") == table:
            raise ConnectionError("DynamoDB is unreachable")

    dynamodb.register("provide-client-params.dynamodb.GetItem", fail, unique_id="health-dlq-test-fail")
    try:
        yield
    finally:
        dynamodb.unregister("provide-client-params.dynamodb.GetItem", unique_id="health-dlq-test-fail")


def mine(url: str, sweep_id: str) -> list[MessageTypeDef]:
    """This test's jobs; other tests' leftovers on the shared queue are dropped."""
    found: list[MessageTypeDef] = []
    while True:
        page = (
            aws.sqs()
            .receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0, AttributeNames=["All"])
            .get("Messages", [])
        )
        for message in page:
            if json.loads(message["Body"]).get("sweepId") == sweep_id:
                found.append(message)
            else:
                aws.sqs().delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        if not page or found:
            return found


def dead_lettered_check(tenant: str, connection_id: str) -> list[MessageTypeDef]:
    """Enqueue a check job, fail it on every receive, and return it from the DLQ."""
    from app import health_checks

    main = queue_url(get_settings().queue_name("health-checks"))
    job = {"kind": "check", "sweepId": new_id("sweep"), "tenantId": tenant, "connectionId": connection_id}
    aws.sqs().send_message(QueueUrl=main, MessageBody=json.dumps(job))
    with connection_reads_failing():
        for _ in range(MAX_RECEIVE_COUNT):
            messages = mine(main, job["sweepId"])
            assert len(invoke(health_checks, main, messages)) == 1
    assert mine(main, job["sweepId"]) == []
    found = mine(dead_letter_queue(), job["sweepId"])
    assert len(found) == 1
    return found


def dead_letter_queue() -> str:
    return queue_url(get_settings().dead_letter_queue_name("health-checks"))


def consume_dead_letters(messages: list[MessageTypeDef]) -> set[str]:
    from app import health_check_dead_letters

    return invoke(health_check_dead_letters, dead_letter_queue(), messages)


def failed_events(tenant: str) -> list[dict[str, Any]]:
    return recorded(tenant, "ConnectionHealthCheckFailed")


def test_a_check_that_failed_every_try_leaves_the_connection_unknown_with_why_and_one_event(
    client: ApiClient,
    vendor: FakeVendor,
    tenant: str,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    connection_id = connect(client, vendor.url)
    (message,) = dead_lettered_check(tenant, connection_id)
    capsys.readouterr()

    assert consume_dead_letters([message]) == set()
    health = client.get(f"{BASE}/{connection_id}/health").json
    assert health["status"] == "Unknown" and health["lastCheckFailedAt"]
    sweep_id = json.loads(message["Body"])["sweepId"]
    assert health["message"].startswith("health check could not run: ")
    assert "ApproximateReceiveCount" in health["message"] and f"traceId {sweep_id}" in health["message"]
    failures = [vars(r) for r in caplog.records if r.getMessage().startswith("health-checks job failed")]
    assert len(failures) == MAX_RECEIVE_COUNT and {r["trace_id"] for r in failures} == {sweep_id}
    logged = [vars(r) for r in caplog.records if r.getMessage() == "connection health check failed every try"]
    assert [r["trace_id"] for r in logged] == [sweep_id]
    assert capsys.readouterr().out.count('"HealthCheckFailed":[1.0]') == 1
    (event,) = failed_events(tenant)
    assert event["data"]["connectionId"] == connection_id and event["data"]["previousStatus"] == "Unknown"
    assert event["data"]["message"] == health["message"]

    assert consume_dead_letters([message]) == set()  # processed twice: still one event
    assert [e["eventId"] for e in failed_events(tenant)] == [event["eventId"]]


def test_a_check_recorded_since_the_job_was_queued_is_kept(client: ApiClient, vendor: FakeVendor, tenant: str) -> None:
    connection_id = connect(client, vendor.url)
    messages = dead_lettered_check(tenant, connection_id)
    assert client.post(f"{BASE}/{connection_id}/health/check").json["status"] == "Healthy"
    assert consume_dead_letters(messages) == set()
    health = client.get(f"{BASE}/{connection_id}/health").json
    assert health["status"] == "Healthy" and "lastCheckFailedAt" not in health
    assert failed_events(tenant) == []


def test_a_connection_that_is_gone_is_skipped(client: ApiClient, vendor: FakeVendor, tenant: str) -> None:
    connection_id = connect(client, vendor.url)
    messages = dead_lettered_check(tenant, connection_id)
    assert client.request("DELETE", f"{BASE}/{connection_id}").status == 200
    assert consume_dead_letters(messages) == set()
    assert failed_events(tenant) == []


def test_a_page_job_and_a_malformed_message_are_logged_and_acknowledged(caplog: pytest.LogCaptureFixture) -> None:
    sweep_id = new_id("sweep")
    page = {"kind": "page", "sweepId": sweep_id, "shard": "sweep-3"}
    for body in (json.dumps(page), "not a job"):
        aws.sqs().send_message(QueueUrl=dead_letter_queue(), MessageBody=body)
    messages = (
        aws.sqs()
        .receive_message(QueueUrl=dead_letter_queue(), MaxNumberOfMessages=10, AttributeNames=["All"])
        .get("Messages", [])
    )
    assert consume_dead_letters(messages) == set()
    logged = [vars(r) for r in caplog.records if r.getMessage().startswith("health sweep page job failed")]
    assert [(r["trace_id"], r["shard"]) for r in logged] == [(sweep_id, "sweep-3")]
