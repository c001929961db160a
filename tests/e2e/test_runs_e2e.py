"""A run end to end over the local runtime: real HTTP in, the runs queue poller, a real vendor call out.

Connect GitHub to the fake vendor, ask for OpenPullRequest, poll the run to
Completed, and see ``RunCompleted`` arrive, signed, at a subscribed receiver.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import LocalRuntime
from tests.support.fake_vendor import FakeVendor, serve_vendor
from tests.support.receiver import Receiver, serve_receiver
from tests.support.waiting import poll

TOKEN = "ghp_e2e0000000000000000000000000000000"
PR = {"owner": "octo", "repo": "hello", "title": "Add feature", "head": "feature", "base": "main", "body": "Why."}


@pytest.fixture
def vendor() -> Iterator[FakeVendor]:
    with serve_vendor() as fake:
        fake.expect_bearer(TOKEN)
        yield fake


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serve_receiver() as fake:
        yield fake


def test_open_pull_request_runs_to_completed_and_is_delivered(
    local_runtime: LocalRuntime, vendor: FakeVendor, receiver: Receiver
) -> None:
    tenant = f"tenant-{secrets.token_hex(4)}"
    token = local_runtime.token(tenant)
    subscription = local_runtime.request(
        "POST",
        "/webhooks/subscriptions",
        token=token,
        json_body={"eventTypes": ["RunCompleted"], "endpointUrl": receiver.url},
    )
    assert subscription.status == 201, subscription.body
    receiver.trust(subscription.json["signingSecret"])
    connection = local_runtime.request(
        "POST",
        "/integrations/connections",
        token=token,
        json_body={
            "providerId": "prov-github",
            "displayName": "GitHub via the fake vendor",
            "credentials": {"token": TOKEN},
            "configuration": {"baseUrl": vendor.url},
        },
    )
    assert connection.status == 201, connection.body
    connection_id = connection.json["connectionId"]
    catalog = local_runtime.request("GET", f"/integrations/connections/{connection_id}/operations", token=token)
    assert "OpenPullRequest" in {item["id"] for item in catalog.json["items"]}

    started = time.monotonic()
    accepted = local_runtime.request(
        "POST",
        f"/integrations/connections/{connection_id}/operations/OpenPullRequest",
        token=token,
        json_body={"parameters": PR},
        headers={"Idempotency-Key": "e2e-pr-1"},
    )
    assert accepted.status == 202, accepted.body
    assert accepted.json["status"] == "Pending"
    location = accepted.header("Location")
    assert location == f"/integrations/runs/{accepted.json['runId']}"

    def completed() -> dict[str, Any] | None:
        run = local_runtime.request("GET", location, token=token).json
        return run if run["status"] not in ("Pending", "Running") else None

    run = poll(completed, "the run finishing")
    print(f"run {run['runId']} {run['status']} after {time.monotonic() - started:.2f}s")
    assert run["status"] == "Completed", run
    assert run["attempts"] == 1 and run["result"]["number"] == 1 and run["traceId"] == accepted.json["traceId"]
    [request] = vendor.api_requests()
    assert (request.method, request.path) == ("POST", "/repos/octo/hello/pulls")
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["x-github-api-version"] == "2022-11-28"

    got = local_runtime.request("GET", f"/integrations/connections/{connection_id}", token=token).json
    assert got["lastRunId"] == run["runId"]
    listed = local_runtime.request("GET", f"/integrations/runs?connectionId={connection_id}", token=token).json
    assert [item["runId"] for item in listed["items"]] == [run["runId"]]

    delivered = poll(
        lambda: [r for r in receiver.accepted() if r.body.get("type") == "RunCompleted"], "RunCompleted delivery"
    )
    assert receiver.verification_errors == []
    assert delivered[0].body["data"]["runId"] == run["runId"]
    print(f"RunCompleted delivered after {time.monotonic() - started:.2f}s")
