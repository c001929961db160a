"""Scheduled runs and the circuit breaker over the local runtime (its own, with short periods).

``LOCAL_SCHEDULE_SCALE=0.02`` makes a "1 minute" schedule fire every 1.2 s
through the runtime's EventBridge Scheduler stand-in (``infra.local.run_schedules``);
the breaker opens after two failures and cools down for two seconds.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import LocalRuntime, start_runtime
from tests.support.fake_vendor import FakeVendor, serve_vendor, server_error
from tests.support.waiting import poll

TOKEN = "ghp_e2e_schedules_000000000000000000000"
REPO = {"owner": "octo", "repo": "hello"}


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRuntime]:
    started = start_runtime(
        tmp_path_factory.mktemp("schedules-runtime"),
        LOCAL_SCHEDULE_SCALE="0.02",
        # No health sweep during the module (at this scale the default 5 minutes is 6 s): its probes are vendor
        # calls too, and one landing between the failures made the vendor see three requests, not two.
        HEALTH_CHECK_RATE_MINUTES="600",
        BREAKER_FAILURE_THRESHOLD="2",
        # Long enough that the refused run is handled inside it on a loaded machine (2 s was not, in CI).
        BREAKER_COOLDOWN_SECONDS="15",
        RUN_MAX_ATTEMPTS="1",
    )
    yield started
    started.stop()


@pytest.fixture
def vendor() -> Iterator[FakeVendor]:
    with serve_vendor() as fake:
        fake.expect_bearer(TOKEN)
        yield fake


def _connect(runtime: LocalRuntime, token: str, vendor: FakeVendor) -> str:
    body = {
        "providerId": "prov-github",
        "displayName": "GitHub via the fake vendor",
        "credentials": {"token": TOKEN},
        "configuration": {"baseUrl": vendor.url},
    }
    reply = runtime.request("POST", "/integrations/connections", token=token, json_body=body)
    assert reply.status == 201, reply.body
    return str(reply.json["connectionId"])


def _runs(runtime: LocalRuntime, token: str, connection_id: str) -> list[dict[str, Any]]:
    reply = runtime.request("GET", f"/integrations/runs?connectionId={connection_id}&limit=100", token=token)
    return list(reply.json["items"])


def test_a_schedule_fires_runs_until_it_is_paused(runtime: LocalRuntime, vendor: FakeVendor) -> None:
    token = runtime.token(f"tenant-{secrets.token_hex(4)}")
    connection_id = _connect(runtime, token, vendor)
    path = f"/integrations/connections/{connection_id}/schedules"
    body = {"operation": "GetRepository", "parameters": REPO, "rate": "1 minute"}
    created = runtime.request("POST", path, token=token, json_body=body)
    assert created.status == 201, created.body
    schedule_id = created.json["scheduleId"]

    def two_completed() -> list[dict[str, Any]] | None:
        done = [r for r in _runs(runtime, token, connection_id) if r["status"] == "Completed"]
        return done if len(done) >= 2 else None

    fired = poll(two_completed, "two scheduled runs completing")
    assert {r["scheduleId"] for r in fired} == {schedule_id}
    assert len({r["scheduledTime"] for r in fired}) == len(fired)  # one run per firing time
    paused = runtime.request("POST", f"{path}/{schedule_id}/pause", token=token, json_body={})
    assert paused.json["state"] == "Paused"
    deleted = runtime.request("DELETE", f"{path}/{schedule_id}", token=token)
    assert deleted.status == 200, deleted.body


def test_the_breaker_opens_on_a_failing_vendor_and_closes_after_a_good_probe(
    runtime: LocalRuntime, vendor: FakeVendor
) -> None:
    token = runtime.token(f"tenant-{secrets.token_hex(4)}")
    connection_id = _connect(runtime, token, vendor)
    start = f"/integrations/connections/{connection_id}/operations/GetRepository"

    def finished(run_id: str) -> dict[str, Any]:
        def check() -> dict[str, Any] | None:
            run = runtime.request("GET", f"/integrations/runs/{run_id}", token=token).json
            return run if run["status"] in ("Completed", "Failed") else None

        result: dict[str, Any] = poll(check, f"run {run_id} finishing")
        return result

    def run_once() -> dict[str, Any]:
        accepted = runtime.request("POST", start, token=token, json_body={"parameters": REPO})
        assert accepted.status == 202, accepted.body
        return finished(accepted.json["runId"])

    vendor.fail_next(server_error(), server_error())
    assert [run_once()["error"]["code"] for _ in range(2)] == ["EXTERNAL_SERVICE_ERROR"] * 2
    refused = run_once()
    assert refused["error"]["code"] == "CIRCUIT_OPEN" and refused["error"]["status"] == 503
    assert len(vendor.api_requests()) == 2  # the open breaker kept the third call from the vendor

    def closed_again() -> dict[str, Any] | None:
        run = run_once()
        return run if run["status"] == "Completed" else None

    poll(closed_again, "a probe after the cool-down closing the breaker")
    assert run_once()["status"] == "Completed"
