"""Runs left in flight: written but never queued, or stuck Running after their worker died."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from app import inflight_sweep
from chalicelib.events import store as events
from chalicelib.runs import service, store, worker
from chalicelib.runs.models import RunStatus
from chalicelib.sweeper import sweep
from infra.local.scheduler import scheduled_event
from tests.runs.conftest import run_of
from tests.support.api_client import ApiClient
from tests.support.fake_vendor import FakeVendor
from tests.support.run_driver import connect, deliver, receive, runs_queue, settings, start
from tests.sweeper.conftest import due_keys, indexed, later

CHARGE = {"method": "POST", "path": "/charges", "body": {"amount": 1200, "currency": "eur"}}


@pytest.fixture
def never_queued(monkeypatch: pytest.MonkeyPatch) -> None:
    """The API process dies between the DynamoDB put and the SQS send: the run is written, nothing is queued."""
    monkeypatch.setattr(service, "_enqueue_or_fail", lambda run, *, keyed: None)


def key(tenant: str, run_id: str) -> dict[str, str]:
    return {"tenantId": tenant, "runId": run_id}


def test_a_run_written_but_never_queued_is_requeued_by_the_schedule_and_completes(
    client: ApiClient, tenant: str, vendor: FakeVendor, handler: Any, never_queued: None
) -> None:
    connection_id = connect(client, vendor.url)
    with settings(RUN_PENDING_DEADLINE_SECONDS="0"):
        accepted = start(client, connection_id, "Request", CHARGE)
    assert receive(runs_queue(), tenant) == []
    assert indexed(store.TABLE.name, key(tenant, accepted["runId"]))

    inflight_sweep(scheduled_event("arn:aws:events:us-east-1:123456789012:rule/sweep", "us-east-1"), None)

    assert store.get_stored(tenant, accepted["runId"]).requeues == 1  # type: ignore[union-attr]
    messages, failed = deliver(handler, runs_queue(), tenant)
    assert len(messages) == 1 and failed == set()
    done = run_of(tenant, accepted["runId"])
    assert (done.status, done.attempts) == (RunStatus.COMPLETED, 1)
    assert not indexed(store.TABLE.name, key(tenant, accepted["runId"]))  # final: out of the index


def test_a_pending_run_is_left_alone_before_its_deadline_and_fails_after_its_requeues(
    client: ApiClient, tenant: str, vendor: FakeVendor, never_queued: None
) -> None:
    connection_id = connect(client, vendor.url)
    accepted = start(client, connection_id, "Request", CHARGE)
    sweep.run()
    assert store.get_stored(tenant, accepted["runId"]).requeues == 0  # type: ignore[union-attr]
    assert receive(runs_queue(), tenant) == []

    with settings(RUN_MAX_REQUEUES="1"):
        assert sweep.run(later(121)).get("runs.requeued", 0) >= 1
        sweep.run(later(121))  # its new deadline is two minutes after that sweep: not due yet
        assert store.get_stored(tenant, accepted["runId"]).requeues == 1  # type: ignore[union-attr]
        assert run_of(tenant, accepted["runId"]).status == RunStatus.PENDING
        sweep.run(later(242))
    failed = run_of(tenant, accepted["runId"])
    assert failed.status == RunStatus.FAILED and failed.error is not None
    assert failed.error.code == "RUN_NOT_STARTED" and "start the run again" in failed.error.message
    assert events.get(tenant, worker.event_id(accepted["runId"], RunStatus.FAILED)) is not None
    assert key(tenant, accepted["runId"]) not in due_keys(store.TABLE.name, later(3600))


def claimed(tenant: str, run_id: str) -> str:
    """A worker receives the message and claims the run, then its invocation dies."""
    [message] = receive(runs_queue(), tenant, visibility=60)
    assert worker.claim(tenant, run_id, message["MessageId"]) is not None
    return message["MessageId"]


def test_a_run_stuck_running_with_no_attempts_left_fails_with_the_reason_and_a_log_line(
    client: ApiClient, tenant: str, vendor: FakeVendor, caplog: pytest.LogCaptureFixture
) -> None:
    connection_id = connect(client, vendor.url)
    accepted = start(client, connection_id, "Request", CHARGE)
    claimed(tenant, accepted["runId"])
    caplog.set_level(logging.INFO, logger="integration-platform")
    with settings(RUN_MAX_ATTEMPTS="1"):
        sweep.run(later(60))  # within the worker's timeout + margin: still running
        assert run_of(tenant, accepted["runId"]).status == RunStatus.RUNNING
        sweep.run(later(181))
    failed = client.get(f"/integrations/runs/{accepted['runId']}").json
    assert failed["status"] == "Failed" and failed["completedAt"]
    assert failed["error"]["code"] == "RUN_ABANDONED" and "Attempt 1 of 1" in failed["error"]["message"]
    logged = [vars(r) for r in caplog.records if r.getMessage() == "run failed without a result"]
    assert [(r["runId"], r["code"]) for r in logged] == [(accepted["runId"], "RUN_ABANDONED")]
    assert events.get(tenant, worker.event_id(accepted["runId"], RunStatus.FAILED)) is not None
    assert not indexed(store.TABLE.name, key(tenant, accepted["runId"]))


def test_a_run_stuck_running_with_attempts_left_is_requeued_and_completes(
    client: ApiClient, tenant: str, vendor: FakeVendor, handler: Any
) -> None:
    connection_id = connect(client, vendor.url)
    accepted = start(client, connection_id, "Request", CHARGE)
    claimed(tenant, accepted["runId"])
    sweep.run(later(181))
    assert run_of(tenant, accepted["runId"]).status == RunStatus.PENDING
    messages, failed = deliver(handler, runs_queue(), tenant)
    assert len(messages) == 1 and failed == set()
    done = run_of(tenant, accepted["runId"])
    assert (done.status, done.attempts) == (RunStatus.COMPLETED, 2)
    assert vendor.side_effects == {accepted["runId"]: 1}
