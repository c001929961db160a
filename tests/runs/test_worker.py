"""The runs worker driven through the SQS handler registered in app.py, with messages from the moto queue."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.connections import store as connections
from chalicelib.core import aws
from chalicelib.credentials import vault
from chalicelib.events import store as events
from chalicelib.runs.models import RunStatus
from chalicelib.runs.worker import event_id
from tests.runs.conftest import PR, TOKEN, run_of
from tests.support.api_client import ApiClient
from tests.support.fake_vendor import FakeVendor, malformed_json, rate_limited, server_error, slow
from tests.support.run_driver import connect, deliver, deliver_when_shown, receive, runs_queue, settings, start


def test_open_pull_request_completes_and_is_announced(
    client: ApiClient, tenant: str, vendor: FakeVendor, handler: Any
) -> None:
    connection_id = connect(client, vendor.url, provider_id="prov-github")
    accepted = start(client, connection_id, "OpenPullRequest", PR)
    messages, failed = deliver(handler, runs_queue(), tenant)
    assert len(messages) == 1 and failed == set()
    polled = client.get(f"/integrations/runs/{accepted['runId']}").json
    assert polled["status"] == "Completed" and polled["attempts"] == 1
    assert polled["startedAt"] and polled["completedAt"] and polled["traceId"] == accepted["traceId"]
    assert polled["result"]["number"] == 1 and "error" not in polled
    sent = vendor.api_requests()
    assert [(r.method, r.path) for r in sent] == [("POST", "/repos/octo/hello/pulls")]
    assert sent[0].headers["authorization"] == f"Bearer {TOKEN}"
    connection = connections.get(tenant, connection_id)
    assert connection is not None and connection.last_run_id == accepted["runId"]
    event = events.get(tenant, event_id(accepted["runId"], RunStatus.COMPLETED))
    assert event is not None and event.type == "RunCompleted" and event.trace_id == accepted["traceId"]
    assert event.data == {
        "runId": accepted["runId"],
        "connectionId": connection_id,
        "operation": "OpenPullRequest",
        "status": "Completed",
        "attempts": 1,
        "startedAt": polled["startedAt"],
        "completedAt": polled["completedAt"],
    }
    assert TOKEN not in json.dumps(polled) + event.model_dump_json()
    assert receive(runs_queue(), tenant) == []


def test_429_with_retry_after_postpones_the_message_then_completes(
    client: ApiClient, tenant: str, vendor: FakeVendor, handler: Any
) -> None:
    connection_id = connect(client, vendor.url, provider_id="prov-github")
    accepted = start(client, connection_id, "GetRepository", {"owner": "octo", "repo": "hello"})
    vendor.fail_next(rate_limited(2))
    with settings(RUN_RETRY_BASE_SECONDS="0"):
        messages, failed = deliver(handler, runs_queue(), tenant)
        assert failed == {messages[0]["MessageId"]}
        waiting = run_of(tenant, accepted["runId"])
        assert (waiting.status, waiting.attempts) == (RunStatus.RUNNING, 1)
        assert receive(runs_queue(), tenant) == []  # hidden for Retry-After, not the queue's 30 s
        again, failed = deliver_when_shown(handler, runs_queue(), tenant, "the retry after Retry-After")
    assert failed == set() and again[0]["MessageId"] == messages[0]["MessageId"]
    assert again[0]["Attributes"]["ApproximateReceiveCount"] == "2"
    done = run_of(tenant, accepted["runId"])
    assert (done.status, done.attempts) == (RunStatus.COMPLETED, 2)


def test_5xx_is_retried_up_to_the_limit_then_fails_502(
    client: ApiClient, tenant: str, vendor: FakeVendor, handler: Any
) -> None:
    connection_id = connect(client, vendor.url, provider_id="prov-github")
    accepted = start(client, connection_id, "GetRepository", {"owner": "octo", "repo": "hello"})
    vendor.fail_next(server_error(), server_error(), server_error())
    with settings(RUN_RETRY_BASE_SECONDS="0", RUN_MAX_ATTEMPTS="3"):
        outcomes = [deliver(handler, runs_queue(), tenant)[1] for _ in range(3)]
    assert [len(f) for f in outcomes] == [1, 1, 0]
    failed = client.get(f"/integrations/runs/{accepted['runId']}").json
    assert failed["status"] == "Failed" and failed["attempts"] == 3 and "result" not in failed
    assert failed["error"]["code"] == "EXTERNAL_SERVICE_ERROR" and failed["error"]["status"] == 502
    assert failed["error"]["vendorStatus"] == 500 and "Internal Server Error" in failed["error"]["message"]
    assert len(vendor.api_requests()) == 3
    event = events.get(tenant, event_id(accepted["runId"], RunStatus.FAILED))
    assert event is not None and event.type == "RunFailed" and event.data["error"]["code"] == "EXTERNAL_SERVICE_ERROR"
    connection = connections.get(tenant, connection_id)
    assert connection is not None and connection.last_run_id == accepted["runId"]


def test_timeout_fails_504_after_the_last_attempt(
    client: ApiClient, tenant: str, vendor: FakeVendor, handler: Any
) -> None:
    connection_id = connect(client, vendor.url, provider_id="prov-github")
    accepted = start(client, connection_id, "GetRepository", {"owner": "octo", "repo": "hello"})
    vendor.fail_next(slow(1.5))
    with settings(VENDOR_TIMEOUT_SECONDS="0.3", RUN_MAX_ATTEMPTS="1"):
        deliver(handler, runs_queue(), tenant)
    run = run_of(tenant, accepted["runId"])
    assert run.status == RunStatus.FAILED and run.error is not None
    assert (run.error.code, run.error.status, run.error.vendor_status) == ("EXTERNAL_SERVICE_TIMEOUT", 504, None)


def test_4xx_and_malformed_json_fail_at_once_without_secrets(
    client: ApiClient, tenant: str, vendor: FakeVendor, handler: Any
) -> None:
    connection_id = connect(client, vendor.url)
    leak = start(client, connection_id, "Request", {"path": "/leak"})
    deliver(handler, runs_queue(), tenant)
    rejected = client.get(f"/integrations/runs/{leak['runId']}").json
    assert rejected["status"] == "Failed" and rejected["attempts"] == 1
    assert rejected["error"]["vendorStatus"] == 400 and "bad request from" in rejected["error"]["message"]
    assert TOKEN not in json.dumps(rejected)
    garbled = start(client, connection_id, "Request", {"method": "POST", "path": "/orders", "body": {"n": 1}})
    vendor.fail_next(malformed_json())
    deliver(handler, runs_queue(), tenant)
    bad = run_of(tenant, garbled["runId"])
    assert bad.status == RunStatus.FAILED and bad.attempts == 1 and bad.error is not None
    assert bad.error.code == "EXTERNAL_SERVICE_ERROR" and "not JSON" in bad.error.message


def test_rotated_secret_is_reread_after_a_401(client: ApiClient, tenant: str, vendor: FakeVendor, handler: Any) -> None:
    connection_id = connect(client, vendor.url)
    start(client, connection_id, "Request", {"path": "/warm"})
    deliver(handler, runs_queue(), tenant)  # the credential is now cached in this process
    connection = connections.get(tenant, connection_id)
    assert connection is not None and connection.credential_ref is not None
    secret = vault.secret_name(tenant, vault.path_from_ref(connection.credential_ref))
    aws.secretsmanager().put_secret_value(SecretId=secret, SecretString=json.dumps({"token": "vendor-token-2"}))
    vendor.expect_bearer("vendor-token-2")
    accepted = start(client, connection_id, "Request", {"path": "/after-rotation"})
    deliver(handler, runs_queue(), tenant)
    assert run_of(tenant, accepted["runId"]).status == RunStatus.COMPLETED
    tokens = [r.headers["authorization"] for r in vendor.api_requests() if r.path == "/after-rotation"]
    assert tokens == [f"Bearer {TOKEN}", "Bearer vendor-token-2"]


def test_oauth2_connection_runs_and_refreshes_an_expired_token(
    client: ApiClient, tenant: str, vendor: FakeVendor, handler: Any
) -> None:
    vendor.expect_oauth_client(f"client-{tenant}", "client-secret")
    credentials = {
        "clientId": f"client-{tenant}",
        "clientSecret": "client-secret",
        "tokenUrl": f"{vendor.url}/oauth/token",
    }
    connection_id = connect(client, vendor.url, credentials=credentials, auth_mode="OAuth2ClientCredentials")
    first = start(client, connection_id, "Request", {"path": "/one"})
    deliver(handler, runs_queue(), tenant)
    vendor.expire_tokens()
    second = start(client, connection_id, "Request", {"path": "/two"})
    deliver(handler, runs_queue(), tenant)
    assert run_of(tenant, first["runId"]).status == run_of(tenant, second["runId"]).status == RunStatus.COMPLETED
    assert vendor.token_requests == 2


def test_large_results_are_stored_truncated(client: ApiClient, tenant: str, vendor: FakeVendor, handler: Any) -> None:
    connection_id = connect(client, vendor.url)
    accepted = start(client, connection_id, "Request", {"path": "/big", "query": {"count": "100"}})
    with settings(RUN_RESULT_MAX_BYTES="1000"):
        deliver(handler, runs_queue(), tenant)
    polled = client.get(f"/integrations/runs/{accepted['runId']}").json
    assert polled["status"] == "Completed" and polled["resultTruncated"] is True
    assert isinstance(polled["result"], str) and 900 < len(polled["result"].encode()) <= 1000


def test_partial_batch_failure_reports_only_the_failed_record(
    client: ApiClient, tenant: str, vendor: FakeVendor, handler: Any
) -> None:
    connection_id = connect(client, vendor.url)
    first = start(client, connection_id, "Request", {"path": "/first"})
    second = start(client, connection_id, "Request", {"path": "/second"})
    vendor.fail_next(server_error())
    with settings(RUN_RETRY_BASE_SECONDS="0"):
        messages, failed = deliver(handler, runs_queue(), tenant)
    assert len(messages) == 2 and len(failed) == 1
    statuses = {run_of(tenant, first["runId"]).status, run_of(tenant, second["runId"]).status}
    assert statuses == {RunStatus.RUNNING, RunStatus.COMPLETED}
    with settings(RUN_RETRY_BASE_SECONDS="0"):
        deliver(handler, runs_queue(), tenant)
    assert run_of(tenant, first["runId"]).status == run_of(tenant, second["runId"]).status == RunStatus.COMPLETED


def test_a_secret_scheduled_for_deletion_after_the_run_was_accepted_fails_the_run_once(
    client: ApiClient, tenant: str, vendor: FakeVendor, handler: Any
) -> None:
    """Not a crash loop: the run ends Failed with the reason and its message leaves the queue."""
    connection_id = connect(client, vendor.url, provider_id="prov-github")
    accepted = start(client, connection_id, "OpenPullRequest", PR)
    path = f"connections/{connection_id}"
    aws.secretsmanager().delete_secret(SecretId=vault.secret_name(tenant, path), RecoveryWindowInDays=7)
    vault.forget(tenant, path)  # the worker is another process, with nothing cached
    messages, failed = deliver(handler, runs_queue(), tenant)
    assert len(messages) == 1 and failed == set()
    run = client.get(f"/integrations/runs/{accepted['runId']}").json
    assert run["status"] == "Failed" and run["error"]["code"] == "CREDENTIAL_UNAVAILABLE"
    assert run["error"]["status"] == 409 and "scheduled for deletion" in run["error"]["message"]
    assert vendor.api_requests() == [] and receive(runs_queue(), tenant) == []
