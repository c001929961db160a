"""A warm inbound delivery, a dispatch and a run take no more AWS calls or write units than documented.

The real handlers run in-process on moto (``bench.pipeline``), every call is
counted through botocore hooks on the clients from ``chalicelib.core.aws`` and
its write units computed from item sizes (``bench.capacity``); the limits are
``bench.chain``, the chain docs/performance.md shows.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from bench import chain
from bench.capacity import Call, Meter
from bench.pipeline import Pipeline
from tests.inbound import signers
from tests.support.api_client import ApiClient
from tests.support.fake_vendor import serve_vendor
from tests.support.receiver import serve_receiver


@pytest.fixture
def world(client: ApiClient) -> Iterator[dict[str, Any]]:
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


def deliver(client: ApiClient, world: dict[str, Any], number: int) -> None:
    connection = world["connection"]
    body = json.dumps({"action": "opened", "issue": {"number": number}}).encode()
    headers = {"Content-Type": "application/json", "X-GitHub-Event": "issues", "X-GitHub-Delivery": f"chain-{number}"}
    path = f"/webhooks/deliveries/{connection['connectionId']}"
    sent = world["pipeline"].api(
        lambda: (
            client.request(
                "POST",
                path,
                body=body,
                headers={**headers, **signers.github(connection["webhookSecret"], body)},
                token="",
            ).status
        )
    )
    assert sent == 202


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


def test_the_meter_counts_a_write_the_chain_does_not_allow(client: ApiClient, world: dict[str, Any]) -> None:
    """The guard itself: one extra UpdateItem in the consumer's phase is caught."""
    from chalicelib.core import aws
    from chalicelib.inbound import store

    pipeline, meter = world["pipeline"], world["meter"]
    deliver(client, world, 3)
    pipeline.settle()
    meter.take()
    deliver(client, world, 4)
    with meter.as_phase("consumer"):
        aws.dynamodb().update_item(
            TableName=store.table_name(),
            Key={"tenantId": {"S": "nobody"}, "deliveryId": {"S": "del-x"}},
            UpdateExpression="SET touched = :t",
            ExpressionAttributeValues={":t": {"BOOL": True}},
        )
    pipeline.settle()
    with pytest.raises(AssertionError, match="consumer took more"):
        assert_within(meter.take(), chain.INBOUND, chain.INBOUND_WRU)
