"""One item holds a delivery and its event: what it stores, what one write costs, and what each reader gets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib.core import aws, jsontext
from chalicelib.core.dynamo import deserialize
from chalicelib.events import store as events
from chalicelib.inbound import store as deliveries
from chalicelib.outbound import fanout
from tests.inbound import signers
from tests.inbound.conftest import Hook, json_bytes, post_delivery
from tests.support.api_client import ApiClient
from tests.support.aws_calls import aws_calls

PAYLOAD = {"action": "opened", "issue": {"number": 7, "big": 12345678901234567890123}}


def _post(client: ApiClient, hook: Hook, tag: str, payload: dict[str, Any] = PAYLOAD) -> Any:
    body = json_bytes(payload)
    headers = {"X-GitHub-Event": "issues", "X-GitHub-Delivery": tag, **signers.github(hook.secret, body)}
    return post_delivery(client, hook.connection_id, body, headers)


def _raw(tenant: str, event_id: str) -> dict[str, Any]:
    item: dict[str, Any] = aws.dynamodb().get_item(TableName=events.TABLE.name, Key=events.TABLE.key(tenant, event_id))[
        "Item"
    ]
    return item


def _inserted(raw: dict[str, Any]) -> dict[str, Any]:
    return {"eventName": "INSERT", "dynamodb": {"NewImage": raw}}


def test_a_delivery_is_one_put_of_one_item_that_is_its_event(
    client: ApiClient, connect: Callable[..., Hook], tenant: str
) -> None:
    hook = connect("prov-github")
    assert _post(client, hook, "warm-up").status == 202  # the connection's lookups are cached from here on
    with aws_calls() as calls:
        accepted = _post(client, hook, "one-1")
    assert accepted.status == 202, accepted.body
    assert [c.operation for c in calls] == ["dynamodb.PutItem"]
    delivery = client.get(f"/webhooks/deliveries/{accepted.json['deliveryId']}").json
    assert delivery["status"] == "Processed" and delivery["eventId"] == deliveries.event_id_for(delivery["deliveryId"])
    assert delivery["processedAt"] == delivery["receivedAt"] or delivery["processedAt"] >= delivery["receivedAt"]

    raw = _raw(tenant, delivery["eventId"])
    assert raw["deliveryId"]["S"] == delivery["deliveryId"] and raw["type"]["S"] == "IssueOpened"
    assert "payloadZ" not in raw and "rawZ" not in raw  # the payload is stored once, in the event's data
    assert jsontext.decompress(bytes(raw["dataZ"]["B"]))["payload"] == PAYLOAD
    read = events.get(tenant, delivery["eventId"])
    assert read is not None and read.data["payload"] == PAYLOAD and read.data["deliveryId"] == delivery["deliveryId"]
    assert read.expires_at is not None and deserialize(raw)["expiresAt"] == read.expires_at
    streamed = events.published(_inserted(raw))  # the stream handler's reader: the fan-out body
    assert streamed is not None and jsontext.loads(fanout.body(streamed))["data"]["payload"] == PAYLOAD
    assert delivery["payload"]["issue"]["number"] == 7  # GET of the delivery reads the same blob


def test_a_repeat_writes_nothing_more_and_a_failed_put_is_the_vendors_retry(
    client: ApiClient, connect: Callable[..., Hook], tenant: str
) -> None:
    hook = connect("prov-github")
    first = _post(client, hook, "again-1")
    with aws_calls() as calls:
        again = _post(client, hook, "again-1")
    assert (first.status, again.status, again.json["status"]) == (202, 200, "Duplicate")
    writes = [
        c.operation for c in calls if c.operation.split(".")[1] in {"PutItem", "UpdateItem", "TransactWriteItems"}
    ]
    assert writes == ["dynamodb.PutItem"]  # the put that found it; the duplicate is tallied in the container
    assert [e["eventId"] for e in _inbound_events(tenant)] == [deliveries.event_id_for(first.json["deliveryId"])]


def _inbound_events(tenant: str) -> list[dict[str, Any]]:
    return [i for i in events.TABLE.query(tenant, limit=100, cursor=None).items if "deliveryId" in i]


def test_a_payload_too_large_to_travel_stays_on_the_delivery_and_the_event_says_omitted(
    client: ApiClient, connect: Callable[..., Hook], tenant: str
) -> None:
    hook = connect("prov-github")
    large = {"action": "opened", "blob": [f"{i:08d}-{i * 7919 % 100003}" for i in range(16_000)]}
    accepted = _post(client, hook, "large-1", large)
    assert accepted.status == 202, accepted.body
    delivery = client.get(f"/webhooks/deliveries/{accepted.json['deliveryId']}").json
    assert delivery["payload"] == large
    raw = _raw(tenant, delivery["eventId"])
    assert "payloadZ" in raw
    event = events.published(_inserted(raw))
    assert event is not None and event.data["payloadOmitted"] is True and "payload" not in event.data


def test_a_delivery_that_could_not_be_read_is_no_event_to_any_reader(
    client: ApiClient, connect: Callable[..., Hook], tenant: str
) -> None:
    hook = connect("prov-stripe")
    body = b"<xml>not what stripe sends</xml>"
    accepted = post_delivery(client, hook.connection_id, body, signers.stripe(hook.secret, body))
    assert accepted.status == 202
    event_id = deliveries.event_id_for(accepted.json["deliveryId"])
    raw = _raw(tenant, event_id)
    assert raw["status"]["S"] == "Failed" and "type" not in raw and "timestamp" not in raw  # not in byTime either
    assert events.get(tenant, event_id) is None and events.get_many(tenant, [event_id]) == {}
    assert events.published(_inserted(raw)) is None  # the stream fans nothing out
    assert client.get(f"/events/{event_id}").status == 404
    listed = client.get(f"/webhooks/deliveries?connectionId={hook.connection_id}").json["items"]
    assert [d["status"] for d in listed] == ["Failed"]
