"""Nothing lost: crash and redelivery, duplicates, cancellation, exhausted attempts and the dead-letter queue."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.adapters import generic_http, github
from chalicelib.adapters.auth import Credential
from chalicelib.adapters.base import ExecutionContext
from chalicelib.core import aws
from chalicelib.events import store as events
from chalicelib.providers.models import AuthModel
from chalicelib.runs import queue, worker
from chalicelib.runs.models import Run, RunStatus
from tests.runs.conftest import PR, TOKEN, run_of
from tests.support.api_client import ApiClient
from tests.support.fake_vendor import FakeVendor
from tests.support.run_driver import (
    connect,
    deliver,
    deliver_when_shown,
    invoke,
    receive,
    runs_dlq,
    runs_queue,
    settings,
    start,
)
from tests.support.waiting import poll

CREDENTIAL = Credential(AuthModel.BEARER_TOKEN, {"token": TOKEN})
CHARGE = {"method": "POST", "path": "/charges", "body": {"amount": 1200, "currency": "eur"}}


def crash_mid_run(tenant: str, run_id: str, side_effect: Any) -> str:
    """A worker receives the message, claims the run, reaches the vendor, and dies before recording anything."""
    [message] = receive(runs_queue(), tenant, visibility=1)
    claimed = worker.claim(tenant, run_id, message["MessageId"])
    assert claimed is not None and claimed.status == RunStatus.RUNNING and claimed.attempts == 1
    side_effect(claimed)
    return message["MessageId"]


def test_crash_after_the_vendor_call_is_redelivered_and_applied_once(
    client: ApiClient, tenant: str, vendor: FakeVendor, handler: Any
) -> None:
    connection_id = connect(client, vendor.url)
    accepted = start(client, connection_id, "Request", CHARGE)

    def charge(run: Run) -> None:
        context = ExecutionContext(base_url=vendor.url, run_id=run.run_id)
        generic_http.ADAPTER.execute("Request", CHARGE, CREDENTIAL, context)

    message_id = crash_mid_run(tenant, accepted["runId"], charge)
    assert run_of(tenant, accepted["runId"]).status == RunStatus.RUNNING
    # The visibility timeout of the crashed delivery runs out.
    messages, failed = deliver_when_shown(handler, runs_queue(), tenant, "the crashed delivery again")
    assert [m["MessageId"] for m in messages] == [message_id] and failed == set()
    assert messages[0]["Attributes"]["ApproximateReceiveCount"] == "2"
    done = run_of(tenant, accepted["runId"])
    assert (done.status, done.attempts) == (RunStatus.COMPLETED, 2)
    assert vendor.side_effects == {accepted["runId"]: 1}
    assert [r.headers["idempotency-key"] for r in vendor.api_requests()] == [accepted["runId"]] * 2
    assert done.result["body"]["effect"] == 1


def test_crash_after_opening_a_pull_request_completes_with_that_pull_request(
    client: ApiClient, tenant: str, vendor: FakeVendor, handler: Any
) -> None:
    connection_id = connect(client, vendor.url, provider_id="prov-github")
    accepted = start(client, connection_id, "OpenPullRequest", PR)

    def open_pull(run: Run) -> None:
        github.ADAPTER.execute("OpenPullRequest", PR, CREDENTIAL, ExecutionContext(base_url=vendor.url))

    crash_mid_run(tenant, accepted["runId"], open_pull)
    deliver_when_shown(handler, runs_queue(), tenant, "the crashed delivery again")
    done = run_of(tenant, accepted["runId"])
    assert done.status == RunStatus.COMPLETED and done.result["number"] == 1
    assert len(vendor.pulls) == 1


def test_a_duplicate_message_does_not_run_the_run_twice(
    client: ApiClient, tenant: str, vendor: FakeVendor, handler: Any
) -> None:
    connection_id = connect(client, vendor.url)
    first = start(client, connection_id, "Request", CHARGE, key="charge-1")
    queue.enqueue(queue.RunMessage(tenant_id=tenant, run_id=first["runId"], trace_id=first["traceId"]))  # a duplicate
    messages, failed = deliver(handler, runs_queue(), tenant)
    assert len(messages) == 2 and failed == set()
    assert run_of(tenant, first["runId"]).attempts == 1
    assert len(vendor.api_requests()) == 1


def test_a_cancelled_run_is_acknowledged_without_calling_the_vendor(
    client: ApiClient, tenant: str, vendor: FakeVendor, handler: Any
) -> None:
    connection_id = connect(client, vendor.url)
    accepted = start(client, connection_id, "Request", CHARGE)
    assert client.post(f"/integrations/runs/{accepted['runId']}/cancel").status == 200
    messages, failed = deliver(handler, runs_queue(), tenant)
    assert len(messages) == 1 and failed == set()
    assert run_of(tenant, accepted["runId"]).status == RunStatus.CANCELLED
    assert vendor.api_requests() == []
    error = client.post(f"/integrations/runs/{accepted['runId']}/cancel")
    assert error.status == 200  # cancelling a cancelled run is a no-op
    completed = start(client, connection_id, "Request", {"path": "/x"})
    deliver(handler, runs_queue(), tenant)
    assert client.post(f"/integrations/runs/{completed['runId']}/cancel").status == 409


def test_a_redelivery_past_the_attempt_limit_fails_the_run(
    client: ApiClient, tenant: str, vendor: FakeVendor, handler: Any
) -> None:
    connection_id = connect(client, vendor.url)
    accepted = start(client, connection_id, "Request", CHARGE)
    crash_mid_run(tenant, accepted["runId"], lambda run: None)
    with settings(RUN_MAX_ATTEMPTS="1"):
        deliver_when_shown(handler, runs_queue(), tenant, "the crashed delivery again")
    failed = run_of(tenant, accepted["runId"])
    assert failed.status == RunStatus.FAILED and failed.error is not None and failed.error.code == "RUN_ABANDONED"
    assert vendor.api_requests() == []
    assert events.get(tenant, worker.event_id(accepted["runId"], RunStatus.FAILED)) is not None


def test_a_message_that_exhausts_its_deliveries_fails_the_run_from_the_dlq(
    client: ApiClient, tenant: str, vendor: FakeVendor, local_api: object
) -> None:
    from app import run_dead_letters

    connection_id = connect(client, vendor.url)
    accepted = start(client, connection_id, "Request", CHARGE)
    crash_mid_run(tenant, accepted["runId"], lambda run: None)

    def moved() -> bool:
        receive(runs_queue(), tenant, visibility=1)  # a delivery that "crashes": never acknowledged
        return bool(receive(runs_dlq(), tenant, visibility=0))  # looked at, left visible

    poll(moved, "SQS to move the message to the dead-letter queue after maxReceiveCount receives")
    dead = receive(runs_dlq(), tenant)
    assert [json.loads(m["Body"])["runId"] for m in dead] == [accepted["runId"]]
    assert run_of(tenant, accepted["runId"]).status == RunStatus.RUNNING
    assert invoke(run_dead_letters, runs_dlq(), dead) == set()
    failed = client.get(f"/integrations/runs/{accepted['runId']}").json
    assert failed["status"] == "Failed" and failed["error"]["code"] == "RUN_ABANDONED" and failed["completedAt"]
    assert events.get(tenant, worker.event_id(accepted["runId"], RunStatus.FAILED)) is not None


def test_an_unreadable_message_is_dropped_not_retried_forever(handler: Any) -> None:
    url = runs_queue()
    aws.sqs().send_message(QueueUrl=url, MessageBody='{"tenantId": "tenant-garbage"}')
    messages = receive(url, "tenant-garbage")
    assert invoke(handler, url, messages) == set()
