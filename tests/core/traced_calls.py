"""Vendor calls, webhook sends and a destination write for ``tests/core/test_tracing.py``, in a Lambda-like process.

Not collected on its own (the name is not ``test_*``): the X-Ray recorder reads the daemon address and
whether it runs in Lambda when it is imported, so each tracing mode needs a fresh interpreter. Every test
here passes in every mode: tracing never changes what a run or a delivery comes to.
"""

from __future__ import annotations

from typing import Any

from chalicelib.core.config import get_settings
from tests.outbound.conftest import QueueDriver, driver, outbound_env  # noqa: F401 (fixtures)
from tests.outbound.helpers import publish, subscribe
from tests.runs.conftest import handler, run_of, vendor  # noqa: F401 (fixtures)
from tests.support.api_client import ApiClient
from tests.support.destinations import TenantResource, in_process
from tests.support.fake_vendor import FakeVendor, server_error, slow
from tests.support.receiver import Behaviour, serve_receiver
from tests.support.run_driver import connect, deliver, runs_queue, settings, start

REPO = {"owner": "octo", "repo": "hello"}


def test_runs_succeed_fail_and_time_out(client: ApiClient, tenant: str, vendor: FakeVendor, handler: Any) -> None:  # noqa: F811
    connection_id = connect(client, vendor.url, provider_id="prov-github")
    outcomes = []
    with settings(RUN_MAX_ATTEMPTS="1", VENDOR_TIMEOUT_SECONDS="0.5"):
        for behaviour in (None, server_error(), slow(2.0)):
            if behaviour is not None:
                vendor.fail_next(behaviour)
            accepted = start(client, connection_id, "GetRepository", REPO)
            deliver(handler, runs_queue(), tenant)
            run = run_of(tenant, accepted["runId"])
            outcomes.append((run.status.value, run.error.vendor_status if run.error else None))
    assert outcomes == [("Completed", None), ("Failed", 500), ("Failed", None)]
    reply = client.post(f"/integrations/connections/{connection_id}/health/check", {})
    assert reply.status == 200 and reply.json["status"] == "Healthy", reply.body


def test_webhooks_are_delivered_and_fail(client: ApiClient, driver: QueueDriver) -> None:  # noqa: F811
    with serve_receiver() as receiver:
        subscribe(client, receiver, ["TracedOnce"])
        publish(client, "TracedOnce", {"n": 1})
        driver.drain()
        assert [got.answered for got in receiver.received] == [200]
    with serve_receiver(Behaviour(status=500)) as failing:
        subscribe(client, failing, ["TracedFailing"])
        publish(client, "TracedFailing", {"n": 2})
        driver.drain(until=lambda: len(failing.received) >= 1)
        assert failing.received[0].answered == 500


def test_a_destination_write_is_delivered(client: ApiClient, driver: QueueDriver, tenant: str) -> None:  # noqa: F811
    queue = TenantResource("sqs", tenant, in_process(), get_settings().destination_role_arn)
    reply = client.post("/webhooks/subscriptions", {"eventTypes": ["TracedWrite"], "destination": queue.destination})
    assert reply.status == 201, reply.body
    publish(client, "TracedWrite", {"n": 3})
    driver.drain()
    assert [a.body["type"] for a in queue.arrivals()] == ["TracedWrite"]
