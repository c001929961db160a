"""POST /events (idempotent), the emit guarantee, redelivery, recovery and per-event status."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from chalicelib.core import aws
from chalicelib.core.timestamps import now_text
from chalicelib.events import store as events
from infra.local.dev_issuer import DevIssuer
from tests.outbound.conftest import QueueDriver
from tests.outbound.helpers import all_accepted, attempts, publish, statuses, subscribe
from tests.support.api_client import ApiClient
from tests.support.receiver import Behaviour, serve_receiver


@contextmanager
def sqs_outage() -> Iterator[None]:
    """Make SendMessageBatch fail at the AWS client boundary, as a throttled SQS would."""
    from botocore.exceptions import ClientError

    def refuse(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "outage"}}, "SendMessageBatch")

    hooks = aws.sqs().meta.events
    hooks.register("before-call.sqs.SendMessageBatch", refuse, unique_id="sqs-outage")
    try:
        yield
    finally:
        hooks.unregister("before-call.sqs.SendMessageBatch", unique_id="sqs-outage")


def test_publish_is_idempotent_by_key(client: ApiClient, driver: QueueDriver) -> None:
    with serve_receiver() as receiver:
        subscribe(client, receiver, ["Invoice*"])
        first = client.post(
            "/events", {"type": "InvoicePaid", "data": {"amount": 5}}, headers={"Idempotency-Key": "k1"}
        )
        assert first.status == 201 and first.header("Location") == f"/events/{first.json['eventId']}"
        again = client.post(
            "/events", {"type": "InvoicePaid", "data": {"amount": 5}}, headers={"Idempotency-Key": "k1"}
        )
        assert again.status == 201 and again.header("Idempotent-Replayed") == "true"  # the first response
        assert again.json["eventId"] == first.json["eventId"]
        clash = client.post(
            "/events", {"type": "InvoicePaid", "data": {"amount": 6}}, headers={"Idempotency-Key": "k1"}
        )
        assert clash.status == 422 and clash.json["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
        driver.drain()
        assert [r.message_id for r in receiver.accepted()] == [first.json["eventId"]]


def test_publish_validates_and_needs_the_scope(client: ApiClient, issuer: DevIssuer, tenant: str) -> None:
    assert client.post("/events", {"type": "bad type", "data": {}}).status == 400
    assert client.post("/events", {"data": {}}).status == 400
    assert client.post("/events", {"type": "Ok", "extra": 1}).status == 400
    reader = issuer.token(tenant, ["events.read"])
    assert client.post("/events", {"type": "Ok"}, token=reader).status == 403


def test_a_fanout_failure_keeps_the_event_and_the_stream_retries_it(
    client: ApiClient, driver: QueueDriver, tenant: str
) -> None:
    with serve_receiver() as receiver:
        subscribe(client, receiver, ["*"])
        body = {"type": "Shipped", "data": {"parcel": 1}}
        with sqs_outage():
            created = client.post("/events", body, headers={"Idempotency-Key": "ship-1"})
            assert created.status == 201  # recorded: the stream owns fan-out from here
            assert driver.stream.pump() == 0  # the stream handler reports the record failed
        recorded = [e for e in _events(tenant) if e["type"] == "Shipped"]
        assert len(recorded) == 1 and created.json["eventId"] == recorded[0]["eventId"]
        again = client.post("/events", body, headers={"Idempotency-Key": "ship-1"})
        assert again.status == 201 and again.header("Idempotent-Replayed") == "true"
        driver.drain()
        assert [r.message_id for r in receiver.accepted()] == [recorded[0]["eventId"]]


def _events(tenant: str) -> list[dict[str, Any]]:
    return events.TABLE.query(tenant, limit=100, cursor=None).items


def test_redeliver_to_all_or_one_subscription(client: ApiClient, driver: QueueDriver) -> None:
    with serve_receiver() as one, serve_receiver() as two:
        first = subscribe(client, one, ["Build*"])
        subscribe(client, two, ["*"])
        event = publish(client, "BuildFailed", {})
        driver.drain()
        everyone = client.post(f"/events/{event['eventId']}/redeliver")
        assert everyone.status == 202 and everyone.json["queued"] == 2
        single = client.post(f"/events/{event['eventId']}/redeliver", {"subscriptionId": first["subscriptionId"]})
        assert single.json["subscriptionIds"] == [first["subscriptionId"]]
        driver.drain()
        assert len(one.accepted()) == 3 and len(two.accepted()) == 2
        assert one.verification_errors == [] and two.verification_errors == []

        assert client.post("/events/evt-missing/redeliver").status == 404
        other = subscribe(client, one, ["Deploy*"])
        mismatch = client.post(f"/events/{event['eventId']}/redeliver", {"subscriptionId": other["subscriptionId"]})
        assert mismatch.status == 422
        client.request("PATCH", f"/webhooks/subscriptions/{first['subscriptionId']}", json_body={"active": False})
        inactive = client.post(f"/events/{event['eventId']}/redeliver", {"subscriptionId": first["subscriptionId"]})
        assert inactive.status == 409


def test_recover_requeues_what_failed_since_a_time(
    client: ApiClient, driver: QueueDriver, outbound_env: Callable[..., None], tenant: str
) -> None:
    outbound_env(WEBHOOK_RETRY_SCHEDULE="0.01")
    with serve_receiver(Behaviour(status=503)) as receiver:
        sub = subscribe(client, receiver, ["*"])
        before = now_text()
        lost = {publish(client, "Lost", {"n": n})["eventId"] for n in range(3)}
        driver.drain()
        assert receiver.accepted_ids == set()
        assert all(s.status == "Failed" for e in lost for s in statuses(tenant, e))
        parked = {json.loads(m["Body"])["eventId"] for m in driver.dead_letters()}
        assert lost <= parked

        receiver.behaviour.status = None
        path = f"/webhooks/subscriptions/{sub['subscriptionId']}/recover"
        assert client.post(path, {"since": "yesterday"}).status == 400
        assert client.post(path, {"since": "0001-01-01T00:00:00+14:00"}).status == 400
        recovered = client.post(path, {"since": before})
        assert recovered.status == 202, recovered.json
        assert set(recovered.json["eventIds"]) == lost
        driver.drain()
        assert receiver.accepted_ids == lost
        assert all(s.status == "Succeeded" for e in lost for s in statuses(tenant, e))
        assert client.post(path, {"since": before}).json["queued"] == 0, "nothing is left failed"
        assert {a["status"] for a in attempts(client, sub["subscriptionId"])} == {"Retrying", "Failed", "Succeeded"}


def test_get_event_shows_its_delivery_status_per_subscription(client: ApiClient, driver: QueueDriver) -> None:
    with serve_receiver() as receiver:
        sub = subscribe(client, receiver, ["Order*"])
        event_id = publish(client, "OrderShipped", {"order": 7})["eventId"]
        before = client.get(f"/events/{event_id}")
        assert before.status == 200 and before.json["type"] == "OrderShipped"
        driver.drain(all_accepted(receiver, {event_id}))
        after = client.get(f"/events/{event_id}").json
        assert [(d["subscriptionId"], d["status"]) for d in after["deliveries"]] == [
            (sub["subscriptionId"], "Succeeded")
        ]
        assert client.get("/events/evt-000000000000").status == 404


def test_events_since_a_time_oldest_first_in_pages(client: ApiClient, tenant: str) -> None:
    before = now_text()
    published = [publish(client, "OrderShipped", {"n": n})["eventId"] for n in range(3)]
    listed: list[str] = []
    cursor = ""
    while True:
        reply = client.get(f"/events?since={before}&limit=2" + (f"&cursor={cursor}" if cursor else ""))
        assert reply.status == 200, reply.body
        listed += [item["eventId"] for item in reply.json["items"]]
        assert all(set(item) == {"eventId", "type", "source", "timestamp", "data"} for item in reply.json["items"])
        cursor = reply.json.get("nextCursor") or ""
        if not cursor:
            break
    assert sorted(listed) == sorted(published) and len(listed) == 3
    times = [found.timestamp for found in events.get_many(tenant, listed).values()]
    assert times == sorted(times)
    assert client.get(f"/events?since={now_text()}").json["items"] == []


def test_events_since_refuses_a_bad_time_or_cursor(client: ApiClient) -> None:
    assert client.get("/events").status == 400
    assert client.get("/events?since=yesterday").status == 400
    assert client.get(f"/events?since={now_text()}&cursor=bm9wZQ").status == 400
