"""A warm inbound delivery, a dispatch and a run take no more AWS calls or write units than documented.

The real handlers run in-process on moto (``bench.pipeline``), every call is
counted through botocore hooks on the clients from ``chalicelib.core.aws`` and
its write units computed from item sizes (``bench.capacity``); the limits are
``bench.chain``, the chain docs/performance.md shows.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from bench import chain
from bench.capacity import Call, Meter
from bench.pipeline import Pipeline
from tests.core.env import settings_env
from tests.inbound import signers
from tests.support.api_client import ApiClient
from tests.support.fake_vendor import serve_vendor
from tests.support.receiver import serve_receiver
from tests.support.waiting import poll

# the prod stage's limits (.chalice/config.json), high enough that this test's deliveries pass
PROD_LIMITS = {
    "RATE_LIMIT_TENANT_PER_MINUTE": "1000",
    "RATE_LIMIT_KEY_PER_MINUTE": "600",
    "RATE_LIMIT_INBOUND_PER_MINUTE": "600",
}


@pytest.fixture
def world(client: ApiClient, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    from chalicelib.stats import record

    # "warm" is at steady load: within one interval of the counters' last write, however slow this machine is
    monkeypatch.setattr(record, "HELD", record.Amortized(interval=3600.0))
    with serve_vendor() as vendor, serve_receiver() as receiver:
        vendor.expect_bearer("chain-token")
        connection = client.post(
            "/integrations/connections",
            {
                "providerId": "prov-github",
                "displayName": "chain",
                "credentials": {"token": "chain-token"},
                "configuration": {"baseUrl": vendor.url},
            },
        ).json
        subscription = client.post("/webhooks/subscriptions", {"endpointUrl": receiver.url, "eventTypes": ["*"]}).json
        receiver.trust(subscription["signingSecret"])
        meter = Meter()
        meter.watch_platform()
        pipeline = Pipeline(meter, batch_size=1)
        pipeline.settle()
        meter.take()
        yield {"connection": connection, "meter": meter, "pipeline": pipeline, "receiver": receiver}


def deliver(
    client: ApiClient, world: dict[str, Any], number: int, secret: str | None = None, status: int = 202
) -> None:
    connection = world["connection"]
    body = json.dumps({"action": "opened", "issue": {"number": number}}).encode()
    headers = {"Content-Type": "application/json", "X-GitHub-Event": "issues", "X-GitHub-Delivery": f"chain-{number}"}
    path = f"/webhooks/deliveries/{connection['connectionId']}"
    signature = signers.github(secret or connection["webhookSecret"], body)
    sent = world["pipeline"].api(
        lambda: client.request("POST", path, body=body, headers={**headers, **signature}, token="").status
    )
    assert sent == status


def start_run(client: ApiClient, world: dict[str, Any]) -> None:
    path = f"/integrations/connections/{world['connection']['connectionId']}/operations/GetRepository"
    sent = world["pipeline"].api(lambda: client.post(path, {"parameters": {"owner": "o", "repo": "r"}}).status)
    assert sent == 202


def spent(calls: list[Call], phases: set[str]) -> tuple[dict[str, Counter[str]], float]:
    mine = [c for c in calls if c.phase in phases]
    by_phase: dict[str, Counter[str]] = {phase: Counter() for phase in phases}
    for call in mine:
        by_phase[call.phase][call.operation] += 1
    return by_phase, sum(c.wru for c in mine)


def assert_within(calls: list[Call], documented: chain.Chain, wru: float) -> None:
    by_phase, units = spent(calls, set(documented))
    assert all(by_phase.values()), f"a documented phase made no call at all: {by_phase}"
    for phase, operations in by_phase.items():
        over = {op: n for op, n in operations.items() if n > documented[phase].get(op, 0)}
        assert not over, f"{phase} took more than the documented chain: {over} (all: {dict(operations)})"
    assert units <= wru, f"{units} write units, documented {wru}"


def test_a_warm_inbound_delivery_and_its_dispatch_stay_within_the_documented_chain(
    client: ApiClient, world: dict[str, Any]
) -> None:
    pipeline, meter = world["pipeline"], world["meter"]
    deliver(client, world, 1)
    pipeline.settle()  # warm: queue URLs, the webhook secret, the subscription cache
    meter.take()
    deliver(client, world, 2)
    pipeline.settle()
    calls = meter.take()
    assert_within(calls, chain.INBOUND, chain.INBOUND_WRU)
    assert_within(calls, chain.DISPATCH, chain.DISPATCH_WRU)
    assert len(world["receiver"].accepted()) == 2


def test_a_stream_batch_enqueues_its_events_messages_ten_to_a_request(client: ApiClient, world: dict[str, Any]) -> None:
    """Issue 23: the stream's SendMessageBatch is per batch, not per event (the chain's one per event is a bound)."""
    pipeline, meter = world["pipeline"], world["meter"]
    deliver(client, world, 10)
    pipeline.settle()
    meter.take()
    for number in range(11, 14):
        deliver(client, world, number)
    pipeline.settle()  # the consumer writes the three events, then the stream reads them as one batch
    stream = Counter(call.operation for call in meter.take() if call.phase == "stream")
    assert stream["sqs.SendMessageBatch"] == 1, stream
    assert len(world["receiver"].accepted()) == 4


def test_a_warm_run_stays_within_the_documented_chain(client: ApiClient, world: dict[str, Any]) -> None:
    pipeline, meter, receiver = world["pipeline"], world["meter"], world["receiver"]
    start_run(client, world)
    pipeline.settle()
    meter.take()
    before = len(receiver.accepted())
    start_run(client, world)
    pipeline.settle()
    calls = meter.take()
    assert_within(calls, chain.RUN, chain.RUN_WRU)
    events = len(receiver.accepted()) - before  # the run's events (RunStarted, RunCompleted), each dispatched once
    assert events == 2
    per_event = {phase: {op: n * events for op, n in ops.items()} for phase, ops in chain.DISPATCH.items()}
    assert_within(calls, per_event, chain.DISPATCH_WRU * events)


def test_a_warm_ingest_at_steady_load_writes_no_counter_per_request(
    client: ApiClient, world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the prod stage's limits: within one interval, accepted, repeated and forged deliveries write no counter.

    Each container adds its rate-limit counts once a second per connection and its stats tallies once every few
    seconds per series; ``FLUSH_SECONDS`` is stretched so that "one interval" holds on a slow machine.
    """
    from chalicelib.ratelimit import limiter

    monkeypatch.setattr(limiter, "FLUSH_SECONDS", 3600.0)
    pipeline, meter = world["pipeline"], world["meter"]
    poll(lambda: time.time() % limiter.WINDOW_SECONDS < limiter.WINDOW_SECONDS - 20, "a fresh rate-limit window")
    with settings_env(monkeypatch, **PROD_LIMITS):
        deliver(client, world, 10)
        deliver(client, world, 10, status=200)  # a repeat: tallied
        deliver(client, world, 10, secret="forged", status=401)  # refused: tallied
        pipeline.settle()
        meter.take()  # the first of the window and of each tally wrote; from here on, one interval
        for number in range(11, 21):
            deliver(client, world, number)
            pipeline.settle()
            deliver(client, world, number, status=200)
            deliver(client, world, number, secret="forged", status=401)
        api = Counter(c.operation for c in meter.take() if c.phase == "api")
    # the deliveries' puts (ten new, ten repeats that find theirs), nothing else
    assert api == Counter({"dynamodb.PutItem": 20}), api


def test_the_meter_counts_a_write_the_chain_does_not_allow(client: ApiClient, world: dict[str, Any]) -> None:
    """The guard itself: one extra UpdateItem in the API's phase of a delivery is caught, and so is one more unit."""
    from chalicelib.core import aws
    from chalicelib.events import store

    pipeline, meter = world["pipeline"], world["meter"]
    deliver(client, world, 3)
    pipeline.settle()
    meter.take()
    deliver(client, world, 4)
    with meter.as_phase("api"):
        aws.dynamodb().update_item(
            TableName=store.TABLE.name,
            Key={"tenantId": {"S": "nobody"}, "eventId": {"S": "evt-x"}},
            UpdateExpression="SET touched = :t",
            ExpressionAttributeValues={":t": {"BOOL": True}},
        )
    pipeline.settle()
    calls = meter.take()
    with pytest.raises(AssertionError, match="api took more"):
        assert_within(calls, chain.INBOUND, chain.INBOUND_WRU)
    with pytest.raises(AssertionError, match="write units"):
        assert_within(calls, {"api": {"dynamodb.PutItem": 1, "dynamodb.UpdateItem": 1}}, chain.INBOUND_WRU)
