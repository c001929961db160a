"""Health: checks on demand, events only on transitions, and the scheduled sweep over 500+ connections."""

from __future__ import annotations

import json
import socket
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.connections import lifecycle, service, store
from chalicelib.connections.health import check_for_sweep
from chalicelib.connections.models import ConnectionStatus, CreateConnectionRequest
from chalicelib.core import aws
from chalicelib.core.config import get_settings
from chalicelib.credentials import vault
from chalicelib.health import sweep
from tests.support.api_client import ApiClient
from tests.support.aws_calls import aws_calls
from tests.support.events import recorded
from tests.support.fake_vendor import FakeVendor, rate_limited, serve_vendor, server_error
from tests.support.mcp_server import serve_mcp
from tests.support.run_driver import connect, invoke, queue_url, settings

TOKEN = "vendor-token-1"
BASE = "/integrations/connections"


@pytest.fixture
def vendor() -> Iterator[FakeVendor]:
    with serve_vendor() as fake:
        fake.expect_bearer(TOKEN)
        yield fake


def health_events(tenant: str) -> list[dict[str, object]]:
    return [event["data"] for event in recorded(tenant, "ConnectionHealthChanged")]


def statuses(health: dict[str, Any]) -> dict[str, str]:
    """001's list of checks, by name."""
    return {check["name"]: check["status"] for check in health["checks"]}


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_check_records_checks_and_emits_only_on_transitions(client: ApiClient, vendor: FakeVendor, tenant: str) -> None:
    connection_id = connect(client, vendor.url)
    assert client.get(f"{BASE}/{connection_id}/health").json["status"] == "Unknown"
    first = client.post(f"{BASE}/{connection_id}/health/check").json
    assert first["status"] == "Healthy" and first["lastCheck"]
    assert statuses(first) == {"connection": "passed", "authentication": "passed", "circuitBreaker": "passed"}
    client.post(f"{BASE}/{connection_id}/health/check")
    assert [(e["previousStatus"], e["status"]) for e in health_events(tenant)] == [("Unknown", "Healthy")]
    vendor.expect_bearer("revoked-elsewhere")
    down = client.post(f"{BASE}/{connection_id}/health/check").json
    assert down["status"] == "Unhealthy" and statuses(down)["authentication"] == "failed"
    assert client.get(f"{BASE}/{connection_id}").json["health"] == "Unhealthy"
    vendor.expect_bearer(TOKEN)
    vendor.fail_next(rate_limited(30))
    throttled = client.post(f"{BASE}/{connection_id}/health/check").json
    assert throttled["status"] == "Healthy" and statuses(throttled)["rateLimit"] == "failed"
    transitions = [(e["previousStatus"], e["status"]) for e in health_events(tenant)]
    assert sorted(transitions) == sorted([("Unknown", "Healthy"), ("Healthy", "Unhealthy"), ("Unhealthy", "Healthy")])


def test_a_vendor_that_is_down_is_unhealthy_not_an_error(client: ApiClient, tenant: str) -> None:
    connection_id = connect(client, closed_port_url())
    reply = client.post(f"{BASE}/{connection_id}/health/check")
    assert reply.status == 200
    assert reply.json["status"] == "Unhealthy" and statuses(reply.json)["connection"] == "failed"
    assert statuses(reply.json)["authentication"] == "warning"


def test_a_401_rereads_the_secret_once(client: ApiClient, vendor: FakeVendor, tenant: str) -> None:
    """A value cached before a change elsewhere is dropped when the vendor refuses it."""
    connection_id = connect(client, vendor.url)
    path = vault.path_from_ref(client.get(f"{BASE}/{connection_id}").json["credentialRef"])
    assert vault.read_cached(tenant, path) == {"token": TOKEN}
    aws.secretsmanager().put_secret_value(SecretId=vault.secret_name(tenant, path), SecretString='{"token": "t2"}')
    assert vault.read_cached(tenant, path) == {"token": TOKEN}  # still cached
    vendor.expect_bearer("t2")
    assert client.post(f"{BASE}/{connection_id}/health/check").json["status"] == "Healthy"


def drain(tenant: str) -> Counter[str]:
    """Run the health-checks handler over the queue until it is empty; count the jobs by kind (and shard).

    Other tests' connections share this moto and the sweep index: their check jobs are dropped here."""
    from app import health_checks

    url = queue_url(get_settings().queue_name("health-checks"))
    seen: Counter[str] = Counter()
    while True:
        messages = aws.sqs().receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return seen
        mine = []
        for message in messages:
            job = json.loads(message["Body"])
            if job["kind"] == "page":
                seen[f"page:{job['shard']}"] += 1
                mine.append(message)
            elif job["tenantId"] == tenant:
                seen["check"] += 1
                mine.append(message)
            else:
                aws.sqs().delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        assert invoke(health_checks, url, mine) == set()


def test_sweep_pages_every_shard_and_one_vendor_down_does_not_stop_the_rest(vendor: FakeVendor, tenant: str) -> None:
    vault.store_new(tenant, "sweep/token", {"token": TOKEN}, description="sweep test")
    down = closed_port_url()
    ids = []
    for n in range(520):
        request = CreateConnectionRequest(
            provider_id="prov-generic-http",
            display_name=f"sweep {n}",
            credential_ref="kv://sweep/token",
            configuration={"baseUrl": down if n % 10 == 0 else vendor.url},
        )
        ids.append(service.create(tenant, request)[0].connection_id)
    inactive = ids[1]
    lifecycle.set_status(tenant, inactive, ConnectionStatus.INACTIVE)
    vendor.fail_next(server_error())  # one more vendor failure in the middle of the sweep

    sweep.start(page_size=10)
    seen = drain(tenant)
    assert seen["check"] == 519
    pages = {key: count for key, count in seen.items() if key.startswith("page:")}
    assert len(pages) == store.SWEEP_SHARDS and min(pages.values()) > 1  # every shard took several pages
    health = Counter(store.get_item(tenant, cid)["health"] for cid in ids)  # type: ignore[index]
    assert health["Unhealthy"] in (52, 53) and health["Unknown"] == 1 and sum(health.values()) == 520
    assert len(health_events(tenant)) == 519


def test_a_sweep_check_records_an_unusable_secret_as_unhealthy(
    client: ApiClient, vendor: FakeVendor, tenant: str
) -> None:
    """The check job succeeds (no redelivery loop) and records why: the secret is scheduled for deletion."""
    connection_id = connect(client, vendor.url)
    name = vault.secret_name(tenant, f"connections/{connection_id}")
    aws.secretsmanager().delete_secret(SecretId=name, RecoveryWindowInDays=7)
    url = queue_url(get_settings().queue_name("health-checks"))
    job = {"kind": "check", "tenantId": tenant, "connectionId": connection_id, "sweepId": "sweep-test"}
    aws.sqs().send_message(QueueUrl=url, MessageBody=json.dumps(job))
    drain(tenant)
    health = client.get(f"{BASE}/{connection_id}/health").json
    assert health["status"] == "Unhealthy" and "scheduled for deletion" in health["message"]
    assert statuses(health)["credential"] == "failed" and vendor.api_requests() == []


def test_a_sweep_batch_writes_each_stats_item_once(client: ApiClient, vendor: FakeVendor, tenant: str) -> None:
    """The batch's vendor-call counts are summed per connection and hour (``stats.collecting``): a connection
    checked twice in one batch (a deferred check of the last sweep beside this sweep's) costs its items one write
    each, not one per check; nobody reads the numbers before the batch ends."""
    from app import health_checks

    first, second = connect(client, vendor.url), connect(client, vendor.url)
    url = queue_url(get_settings().queue_name("health-checks"))
    for connection_id, sweep_id in ((first, "sweep-1"), (second, "sweep-1"), (first, "sweep-2")):
        job = {"kind": "check", "tenantId": tenant, "connectionId": connection_id, "sweepId": sweep_id}
        aws.sqs().send_message(QueueUrl=url, MessageBody=json.dumps(job))
    batch: list[Any] = []
    while messages := aws.sqs().receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            if json.loads(message["Body"]).get("tenantId") == tenant:
                batch.append(message)
            else:  # another test's job: dropped, as ``drain`` does
                aws.sqs().delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert len(batch) == 3
    table = get_settings().table_name("stats").encode()
    with aws_calls() as calls:
        assert invoke(health_checks, url, batch) == set()  # one batch, as Lambda would hand it over
    written = [
        (key["seriesKey"]["S"], key["hour"]["S"])
        for call in calls
        if call.operation == "dynamodb.UpdateItem" and table in call.body
        for key in [json.loads(call.body)["Key"]]
    ]
    assert {series.split("#")[2] for series, _ in written} == {first, second}
    assert len(written) == len(set(written)), written  # before: the first connection's hour and minute twice
    assert len(vendor.api_requests()) == 3
    totals = {cid: client.get(f"{BASE}/{cid}").json["stats"]["totalCalls"] for cid in (first, second)}
    assert totals == {first: 2, second: 1}


# One call a minute: every call after the first within a test is inside the window, however slow the machine.
ONE_A_MINUTE = {"rateLimit": {"requestsPerSecond": 1 / 60, "burst": 1}}


def test_test_and_check_take_the_vendor_rate_limit_like_runs(client: ApiClient, vendor: FakeVendor) -> None:
    connection_id = connect(client, vendor.url, configuration=ONE_A_MINUTE)
    assert client.post(f"{BASE}/{connection_id}/test").json["connectionTest"]["success"] is True
    for path in ("test", "health/check"):
        held = client.post(f"{BASE}/{connection_id}/{path}")
        assert held.status == 429 and held.json["error"]["code"] == "RATE_LIMIT_EXCEEDED", held.body
        assert 1 <= int(held.header("Retry-After") or 0) <= 60
    assert len(vendor.api_requests()) == 1  # the two held calls never reached the vendor
    assert client.get(f"{BASE}/{connection_id}/health").json["status"] == "Unknown"  # a held check records nothing


def test_health_checks_count_toward_the_breaker_and_an_open_one_refuses_them(
    client: ApiClient, vendor: FakeVendor, tenant: str
) -> None:
    connection_id = connect(client, vendor.url)
    vendor.fail_next(server_error(), server_error())
    with settings(BREAKER_FAILURE_THRESHOLD="2", BREAKER_COOLDOWN_SECONDS="600"):
        assert client.post(f"{BASE}/{connection_id}/health/check").json["status"] == "Unhealthy"
        assert client.post(f"{BASE}/{connection_id}/test").json["connectionTest"]["success"] is False
        refused = client.post(f"{BASE}/{connection_id}/test")
        checked = client.post(f"{BASE}/{connection_id}/health/check")
    for reply in (refused, checked):
        assert reply.status == 503 and reply.json["error"]["code"] == "CIRCUIT_OPEN", reply.body
        assert 500 < int(reply.header("Retry-After") or 0) <= 600
    assert len(vendor.api_requests()) == 2


def test_a_sweep_check_held_back_is_deferred_a_few_times_without_calling_the_vendor(
    client: ApiClient, vendor: FakeVendor, tenant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection_id = connect(client, vendor.url, configuration=ONE_A_MINUTE)
    client.post(f"{BASE}/{connection_id}/test")  # takes the minute's call
    monkeypatch.setattr(sweep, "MAX_DELAY_SECONDS", 0)  # a deferred job shows again at once
    url = queue_url(get_settings().queue_name("health-checks"))
    job = {"kind": "check", "tenantId": tenant, "connectionId": connection_id, "sweepId": "sweep-held"}
    aws.sqs().send_message(QueueUrl=url, MessageBody=json.dumps(job))
    assert drain(tenant)["check"] == 1 + sweep.MAX_DEFERRALS  # each try deferred it once more, then it was let go
    assert len(vendor.api_requests()) == 1
    assert client.get(f"{BASE}/{connection_id}/health").json["status"] == "Unknown"


def test_an_mcp_tool_list_is_written_only_when_it_changed(client: ApiClient, tenant: str) -> None:
    """A catalogue is up to 200 KB: the test, the check and the sweep leave it alone while the server lists the same."""
    with serve_mcp(json_response=True, token=TOKEN) as url:
        connection_id = connect(client, url, provider_id="prov-mcp", credentials={"token": TOKEN})
        with aws_calls() as first:
            assert client.post(f"{BASE}/{connection_id}/test").json["connectionTest"]["success"] is True
        with aws_calls() as again:
            assert client.post(f"{BASE}/{connection_id}/test").status == 200
            assert client.post(f"{BASE}/{connection_id}/health/check").json["status"] == "Healthy"
            assert check_for_sweep(tenant, connection_id, "sweep-tools")
    assert [call.operation for call in first if b"discoveredTools" in call.body] == ["dynamodb.UpdateItem"]
    assert [call for call in again if b"discoveredTools" in call.body] == []
    assert sorted(op["id"] for op in client.get(f"{BASE}/{connection_id}/operations").json["items"]) == [
        "add",
        "explode",
    ]
