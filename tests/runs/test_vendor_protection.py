"""The vendor's rate limit and circuit breaker as the runs worker meets them (docs/adapters.md)."""

from __future__ import annotations

import json
import time
from typing import Any

from chalicelib.core import aws
from chalicelib.credentials import vault
from chalicelib.protection import breaker, state
from chalicelib.runs.models import RunStatus
from tests.runs.conftest import run_of
from tests.support.api_client import ApiClient
from tests.support.fake_vendor import Behavior, FakeVendor, server_error
from tests.support.run_driver import connect, deliver, deliver_when_shown, runs_queue, settings, start

REPO = {"owner": "octo", "repo": "hello"}


def _runs(client: ApiClient, connection_id: str, count: int) -> list[str]:
    return [start(client, connection_id, "GetRepository", REPO)["runId"] for _ in range(count)]


def test_a_down_vendor_opens_the_breaker_and_runs_fail_circuit_open_without_calling_it(
    client: ApiClient, tenant: str, vendor: FakeVendor, handler: Any
) -> None:
    connection_id = connect(client, vendor.url, provider_id="prov-github")
    vendor.fail_next(*[server_error()] * 2)
    with settings(BREAKER_FAILURE_THRESHOLD="2", BREAKER_COOLDOWN_SECONDS="600", RUN_MAX_ATTEMPTS="1"):
        run_ids = _runs(client, connection_id, 3)
        for _ in range(3):
            deliver(handler, runs_queue(), tenant)
        errors = [run_of(tenant, run_id).error for run_id in run_ids]
    assert [e.code if e else None for e in errors].count("CIRCUIT_OPEN") == 1
    assert [e.code for e in errors if e].count("EXTERNAL_SERVICE_ERROR") == 2
    assert len(vendor.api_requests()) == 2  # the third run never reached the vendor
    opened = breaker.health_check(tenant, connection_id, time.time())
    assert (opened["state"], opened["consecutiveFailures"]) == ("Open", 2)
    checks = client.get(f"/integrations/connections/{connection_id}/health").json["checks"]
    assert {"name": "circuitBreaker", "status": "failed", "message": opened["message"]} in [
        {key: check.get(key) for key in ("name", "status", "message")} for check in checks
    ]


def test_4xx_answers_do_not_count_toward_the_breaker(
    client: ApiClient, tenant: str, vendor: FakeVendor, handler: Any
) -> None:
    connection_id = connect(client, vendor.url, provider_id="prov-github")
    vendor.fail_next(server_error(), Behavior(404, {"message": "Not Found"}), server_error())
    with settings(BREAKER_FAILURE_THRESHOLD="2", RUN_MAX_ATTEMPTS="1"):
        for _ in _runs(client, connection_id, 3):
            deliver(handler, runs_queue(), tenant)
    assert state.read(tenant, connection_id).get("failures") == 1  # the 404 cleared the first 500


def test_an_empty_bucket_requeues_the_run_for_later_without_using_an_attempt_or_a_delivery(
    client: ApiClient, tenant: str, vendor: FakeVendor, handler: Any
) -> None:
    configuration = {"rateLimit": {"requestsPerSecond": 1, "burst": 1}}
    connection_id = connect(client, vendor.url, provider_id="prov-github", configuration=configuration)
    first, second = _runs(client, connection_id, 2)
    messages, failed = deliver(handler, runs_queue(), tenant)
    assert len(messages) == 2 and failed == set()  # both acknowledged: the held one has a new, delayed message
    statuses = sorted((run_of(tenant, run_id).status, run_of(tenant, run_id).attempts) for run_id in (first, second))
    assert statuses == [(RunStatus.COMPLETED, 1), (RunStatus.PENDING, 0)]
    assert len(vendor.api_requests()) == 1
    # The token is due after 1 s; the delayed message shows then.
    later, failed = deliver_when_shown(handler, runs_queue(), tenant, "the held run's delayed message")
    assert len(later) == 1 and failed == set() and later[0]["Attributes"]["ApproximateReceiveCount"] == "1"
    done = [run_of(tenant, run_id) for run_id in (first, second)]
    assert [(r.status, r.attempts) for r in done] == [(RunStatus.COMPLETED, 1)] * 2


def test_a_401_is_not_sent_again_with_the_same_credential(
    client: ApiClient, tenant: str, vendor: FakeVendor, handler: Any
) -> None:
    connection_id = connect(client, vendor.url, provider_id="prov-github")
    vendor.expect_bearer("revoked-elsewhere")  # the vendor refuses the stored token
    [run_id] = _runs(client, connection_id, 1)
    deliver(handler, runs_queue(), tenant)
    error = run_of(tenant, run_id).error
    assert error is not None and error.vendor_status == 401
    assert len(vendor.api_requests()) == 1  # reading the secret again found the same value: nothing new to try


def test_the_retry_with_a_changed_credential_takes_a_token_of_its_own(
    client: ApiClient, tenant: str, vendor: FakeVendor, handler: Any
) -> None:
    one_a_minute = {"rateLimit": {"requestsPerSecond": 1 / 60, "burst": 1}}
    connection_id = connect(client, vendor.url, provider_id="prov-github", configuration=one_a_minute)
    path = vault.path_from_ref(client.get(f"/integrations/connections/{connection_id}").json["credentialRef"])
    vault.read_cached(tenant, path)  # cached in this process, as after an earlier call
    secret_id = vault.secret_name(tenant, path)
    aws.secretsmanager().put_secret_value(SecretId=secret_id, SecretString=json.dumps({"token": "vendor-token-2"}))
    vendor.expect_bearer("vendor-token-2")
    [run_id] = _runs(client, connection_id, 1)
    _, failed = deliver(handler, runs_queue(), tenant)
    assert len(failed) == 1  # postponed: the retry with the new value waits for the next token
    assert len(vendor.api_requests()) == 1  # only the first call, which the vendor refused
    waiting = run_of(tenant, run_id)
    assert (waiting.status, waiting.attempts) == (RunStatus.RUNNING, 1)  # the vendor answered: an attempt
