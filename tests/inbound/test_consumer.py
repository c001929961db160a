"""The hand-off: duplicate storms, the consumer through the real Chalice SQS handler, lost sends."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from chalicelib.core import aws
from chalicelib.core.config import get_settings
from tests.inbound import signers
from tests.inbound.conftest import Hook, events_of, json_bytes, post_delivery
from tests.support.api_client import ApiClient, Reply
from tests.support.waiting import WAIT_SECONDS

STORM = 24


def test_concurrent_duplicate_storm_yields_one_accepted_and_one_event(
    client: ApiClient, connect: Callable[..., Hook], drain: Callable[..., Any], tenant: str
) -> None:
    hook = connect("prov-github")
    body = json_bytes({"action": "opened", "issue": {"number": 1}})
    headers = {"X-GitHub-Event": "issues", "X-GitHub-Delivery": str(uuid.uuid4()), **signers.github(hook.secret, body)}
    barrier = threading.Barrier(STORM)
    replies: list[Reply] = []
    lock = threading.Lock()

    def send() -> None:
        barrier.wait()
        reply = post_delivery(client, hook.connection_id, body, headers)
        with lock:
            replies.append(reply)

    threads = [threading.Thread(target=send) for _ in range(STORM)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    statuses = sorted((r.status, r.json["status"]) for r in replies)
    assert statuses == [(200, "Duplicate")] * (STORM - 1) + [(202, "Accepted")]
    assert len({r.json["deliveryId"] for r in replies}) == 1
    drain()
    events = events_of(tenant)
    assert len(events) == 1 and events[0]["type"] == "IssueOpened"
    delivery = client.get(f"/webhooks/deliveries/{replies[0].json['deliveryId']}").json
    assert delivery["status"] == "Processed" and delivery["eventId"] == events[0]["eventId"]


def test_consumer_is_idempotent_and_reports_partial_batch_failures(
    client: ApiClient, connect: Callable[..., Hook], drain: Callable[..., Any], tenant: str
) -> None:
    hook = connect("prov-stripe")
    body = json_bytes({"id": "evt_idem", "type": "charge.refunded"})
    accepted = post_delivery(client, hook.connection_id, body, signers.stripe(hook.secret, body))
    assert accepted.status == 202
    message = f'{{"tenantId":"{tenant}","deliveryId":"{accepted.json["deliveryId"]}"}}'
    replayed = {
        "messageId": "replayed-1",
        "receiptHandle": "r",
        "body": message,
        "attributes": {},
        "eventSource": "aws:sqs",
    }
    broken = {**replayed, "messageId": "broken-1", "body": "not json"}
    responses = drain([replayed, broken])
    failures = [item["itemIdentifier"] for response in responses for item in response["batchItemFailures"]]
    assert failures == ["broken-1"]
    assert [e["type"] for e in events_of(tenant)] == ["ChargeRefunded"]


@contextmanager
def sqs_send_failing() -> Iterator[None]:
    """The AWS side fails the SendMessage call (moto is the AWS; our code runs unchanged)."""
    events = aws.sqs().meta.events

    def fail(**_: Any) -> None:
        raise ConnectionError("SQS is unreachable")

    events.register("before-call.sqs.SendMessage", fail, unique_id="inbound-test-fail")
    try:
        yield
    finally:
        events.unregister("before-call.sqs.SendMessage", unique_id="inbound-test-fail")


def test_a_stored_delivery_whose_send_failed_is_resent_by_the_vendors_retry(
    client: ApiClient, connect: Callable[..., Hook], drain: Callable[..., Any], tenant: str
) -> None:
    hook = connect("prov-shopify")
    body = json_bytes({"id": 1, "total_price": "9.99"})
    headers = {
        "X-Shopify-Topic": "orders/paid",
        "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        **signers.shopify(hook.secret, body),
    }
    drain()
    with sqs_send_failing():
        failed = post_delivery(client, hook.connection_id, body, headers)
    assert failed.status == 503 and failed.json["error"]["code"] == "SERVICE_UNAVAILABLE"
    delivery_id = client.get(f"/webhooks/deliveries?connectionId={hook.connection_id}").json["items"][0]["deliveryId"]

    assert client.get(f"/webhooks/deliveries/{delivery_id}").json["status"] == "Received"
    retried = post_delivery(client, hook.connection_id, body, headers)  # at once: the vendor's one retry
    assert (retried.status, retried.json["status"]) == (200, "Duplicate")
    drain()
    assert [e["type"] for e in events_of(tenant)] == ["OrderPaid"]
    assert client.get(f"/webhooks/deliveries/{delivery_id}").json["status"] == "Processed"
    after = post_delivery(client, hook.connection_id, body, headers)
    assert after.status == 200
    drain()
    assert len(events_of(tenant)) == 1


def test_deep_payloads_travel_in_the_event_and_only_oversized_ones_stay_on_the_delivery(
    client: ApiClient, connect: Callable[..., Hook], drain: Callable[..., Any], tenant: str
) -> None:
    hook = connect("prov-github")
    deep: dict[str, Any] = {"leaf": True}
    for _ in range(40):
        deep = {"n": deep}
    body = json_bytes({"action": "opened", "deep": deep})
    headers = {"X-GitHub-Event": "issues", "X-GitHub-Delivery": "deep-1", **signers.github(hook.secret, body)}
    assert post_delivery(client, hook.connection_id, body, headers).status == 202
    large = json_bytes({"action": "opened", "blob": "x" * (210 * 1024)})
    headers = {"X-GitHub-Event": "issues", "X-GitHub-Delivery": "large-1", **signers.github(hook.secret, large)}
    accepted = post_delivery(client, hook.connection_id, large, headers)
    assert accepted.status == 202, accepted.body
    nan = b'{"action":"opened","n":NaN}'
    headers = {"X-GitHub-Event": "issues", "X-GitHub-Delivery": "nan-1", **signers.github(hook.secret, nan)}
    assert post_delivery(client, hook.connection_id, nan, headers).status == 400
    drain()
    by_delivery = {e["data"]["providerDeliveryId"]: e["data"] for e in events_of(tenant)}
    assert by_delivery["deep-1"]["payload"]["deep"] == deep
    assert by_delivery["large-1"]["payloadOmitted"] is True and "payload" not in by_delivery["large-1"]
    delivery = client.get(f"/webhooks/deliveries/{accepted.json['deliveryId']}").json
    assert len(delivery["payload"]["blob"]) == 210 * 1024


def _hand_built(message_id: str, body: str) -> dict[str, Any]:
    """A Lambda SQS record with its own messageId (chalice.test gives every record of an event the same one)."""
    return {
        "messageId": message_id,
        "receiptHandle": message_id,
        "body": body,
        "attributes": {},
        "eventSource": "aws:sqs",
    }


@contextmanager
def event_writes_meet(parties: int) -> Iterator[list[str]]:
    """Every event ``PutItem`` waits until ``parties`` are in flight at once: a batch handled one record at a
    time never gets there, and its records fail on the broken barrier instead of waiting forever."""
    barrier = threading.Barrier(parties, timeout=WAIT_SECONDS)
    met: list[str] = []
    broken: list[str] = []
    events = aws.dynamodb().meta.events
    table = get_settings().table_name("events")

    def meet(params: dict[str, Any], **_: Any) -> None:
        if params.get("TableName") != table:
            return
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            broken.append("broken")
            raise
        met.append("met")

    events.register("provide-client-params.dynamodb.PutItem", meet, unique_id="consumer-test-meet")
    try:
        yield broken
    finally:
        events.unregister("provide-client-params.dynamodb.PutItem", unique_id="consumer-test-meet")
    assert broken or len(met) == parties, f"{len(met)} event writes met, {parties} expected"


def test_a_batch_is_processed_concurrently_and_reports_exactly_the_failed_records(
    client: ApiClient, connect: Callable[..., Hook], drain: Callable[..., Any], tenant: str
) -> None:
    hook = connect("prov-github")
    drain()
    fresh: list[dict[str, Any]] = []
    for number in range(4):
        body = json_bytes({"action": "opened", "issue": {"number": number}})
        headers = {"X-GitHub-Event": "issues", "X-GitHub-Delivery": f"batch-{number}"}
        accepted = post_delivery(client, hook.connection_id, body, {**headers, **signers.github(hook.secret, body)})
        assert accepted.status == 202
        message = f'{{"tenantId":"{tenant}","deliveryId":"{accepted.json["deliveryId"]}"}}'
        fresh.append(_hand_built(f"fresh-{number}", message))
    from tests.inbound.conftest import registered_handler

    handler = registered_handler(get_settings().queue_name("inbound-events"))
    broken = [_hand_built("bad-json", "not json"), _hand_built("no-delivery-id", f'{{"tenantId":"{tenant}"}}')]
    batch = [fresh[0], broken[0], fresh[1], fresh[2], broken[1], fresh[3]]
    with event_writes_meet(len(fresh)) as barrier_broke:
        response = handler({"Records": batch}, None)
    assert not barrier_broke
    assert sorted(item["itemIdentifier"] for item in response["batchItemFailures"]) == ["bad-json", "no-delivery-id"]
    assert len(events_of(tenant)) == 4
    drain()  # the queued copies find their deliveries Processed: no second event
    assert len(events_of(tenant)) == 4
