"""An inbound event references its delivery's payload instead of storing a second copy."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from chalicelib.core import aws, jsontext
from chalicelib.core.dynamo import deserialize, serialize
from chalicelib.core.errors import ServiceUnavailable
from chalicelib.core.timestamps import from_epoch
from chalicelib.events import store as events
from chalicelib.inbound import processing
from chalicelib.inbound import store as deliveries
from chalicelib.outbound import fanout
from tests.inbound import signers
from tests.inbound.conftest import Hook, json_bytes, post_delivery
from tests.support.api_client import ApiClient

PAYLOAD = {"action": "opened", "issue": {"number": 7, "big": 12345678901234567890123}}


def _delivered(client: ApiClient, connect: Callable[..., Hook], drain: Callable[..., Any], tag: str) -> dict[str, Any]:
    hook = connect("prov-github")
    body = json_bytes(PAYLOAD)
    headers = {"X-GitHub-Event": "issues", "X-GitHub-Delivery": tag, **signers.github(hook.secret, body)}
    accepted = post_delivery(client, hook.connection_id, body, headers)
    assert accepted.status == 202, accepted.body
    drain()
    delivery: dict[str, Any] = client.get(f"/webhooks/deliveries/{accepted.json['deliveryId']}").json
    assert delivery["status"] == "Processed"
    return delivery


def _raw_event(tenant: str, event_id: str) -> dict[str, Any]:
    item: dict[str, Any] = aws.dynamodb().get_item(TableName=events.TABLE.name, Key=events.TABLE.key(tenant, event_id))[
        "Item"
    ]
    return item


def test_the_event_item_holds_a_reference_and_every_reader_gets_the_payload_back(
    client: ApiClient, connect: Callable[..., Hook], drain: Callable[..., Any], tenant: str
) -> None:
    delivery = _delivered(client, connect, drain, "ref-1")
    raw = _raw_event(tenant, delivery["eventId"])
    assert deserialize({"r": raw["payloadRef"]})["r"] == {"deliveryId": delivery["deliveryId"]}
    stored_data = jsontext.decompress(bytes(raw["dataZ"]["B"]))
    assert "payload" not in stored_data and stored_data["deliveryId"] == delivery["deliveryId"]
    # The event expires with the delivery that holds its payload, never after it.
    assert from_epoch(int(raw["expiresAt"]["N"])) == delivery["expiresAt"]

    read = events.get(tenant, delivery["eventId"])
    assert read is not None and read.data["payload"] == PAYLOAD
    streamed = events.from_stream_image(raw)  # the stream handler's reader: the fan-out body
    assert jsontext.loads(fanout.body(streamed))["data"]["payload"] == PAYLOAD
    shown = client.get(f"/events/{delivery['eventId']}")
    assert shown.status == 200 and shown.json["data"]["payload"]["issue"]["number"] == 7


def test_a_missing_payload_is_retried_until_the_event_expires_then_shown_as_omitted(
    client: ApiClient, connect: Callable[..., Hook], drain: Callable[..., Any], tenant: str
) -> None:
    delivery = _delivered(client, connect, drain, "ref-2")
    aws.dynamodb().delete_item(TableName=deliveries.table_name(), Key=deliveries._key(tenant, delivery["deliveryId"]))
    raw = _raw_event(tenant, delivery["eventId"])
    with pytest.raises(ServiceUnavailable):
        events.from_stream_image(raw)  # the stream record fails, and Lambda retries it
    assert client.get(f"/events/{delivery['eventId']}").status == 503

    past = {":e": int(time.time()) - 1}
    aws.dynamodb().update_item(
        TableName=events.TABLE.name,
        Key=events.TABLE.key(tenant, delivery["eventId"]),
        UpdateExpression="SET expiresAt = :e",
        ExpressionAttributeValues=serialize(past),
    )
    read = events.get(tenant, delivery["eventId"])
    assert read is not None and read.data["payloadOmitted"] is True and "payload" not in read.data


def _queued_messages() -> list[dict[str, Any]]:
    from chalicelib.core.config import get_settings

    sqs = aws.sqs()
    url = sqs.get_queue_url(QueueName=get_settings().queue_name("inbound-events"))["QueueUrl"]
    found = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    for message in found:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return [json.loads(m["Body"]) for m in found]


def _dynamodb_calls() -> tuple[list[str], Callable[[], None]]:
    seen: list[str] = []

    def count(event_name: str, **_: Any) -> None:
        seen.append(event_name.rsplit(".", 1)[-1])

    hooks = aws.dynamodb().meta.events
    hooks.register("before-call.dynamodb", count, unique_id="payload-test-count")
    return seen, lambda: hooks.unregister("before-call.dynamodb", unique_id="payload-test-count")


def test_the_queue_message_carries_the_event_metadata_so_the_consumer_reads_nothing(
    client: ApiClient, connect: Callable[..., Hook], drain: Callable[..., Any], tenant: str
) -> None:
    hook = connect("prov-github")
    body = json_bytes(PAYLOAD)
    headers = {"X-GitHub-Event": "issues", "X-GitHub-Delivery": "carry-1", **signers.github(hook.secret, body)}
    accepted = post_delivery(client, hook.connection_id, body, headers)
    [message] = _queued_messages()
    assert "payload" not in json.dumps(message) and len(json.dumps(message)) < 1024
    assert message["eventType"] == "IssueOpened" and message["deliveryId"] == accepted.json["deliveryId"]

    seen, stop = _dynamodb_calls()
    try:
        event_id = processing.process(message)
        assert processing.process(message) == event_id  # a repeat finds the condition failed and writes nothing
    finally:
        stop()
    # no read: the event's put, the delivery's mark, the "accepted" count on the stats table (its hour item and
    # its minute item); the repeat's two conditional writes find both done (and count nothing)
    assert seen == ["PutItem", "UpdateItem", "UpdateItem", "UpdateItem", "PutItem", "UpdateItem"]
    event = events.get(tenant, str(event_id))
    assert event is not None and event.data["payload"] == PAYLOAD and event.type == "IssueOpened"
    delivery = client.get(f"/webhooks/deliveries/{accepted.json['deliveryId']}").json
    assert delivery["status"] == "Processed" and delivery["eventId"] == event_id


def test_an_ids_only_message_of_the_earlier_shape_is_still_processed(
    client: ApiClient, connect: Callable[..., Hook], drain: Callable[..., Any], tenant: str
) -> None:
    """What ``infra.ops.redrive`` may move back from the DLQ after an upgrade."""
    hook = connect("prov-github")
    body = json_bytes(PAYLOAD)
    headers = {"X-GitHub-Event": "issues", "X-GitHub-Delivery": "old-1", **signers.github(hook.secret, body)}
    accepted = post_delivery(client, hook.connection_id, body, headers)
    _queued_messages()
    event_id = processing.process({"tenantId": tenant, "deliveryId": accepted.json["deliveryId"], "traceId": "t-old"})
    event = events.get(tenant, str(event_id))
    assert event is not None and event.data["payload"] == PAYLOAD
    assert event.data["providerDeliveryId"] == "old-1"


def test_a_message_for_a_delivery_past_its_retention_announces_nothing(
    client: ApiClient, connect: Callable[..., Hook], drain: Callable[..., Any], tenant: str
) -> None:
    """An operator's DLQ move can bring back a message older than the delivery's retention."""
    hook = connect("prov-github")
    body = json_bytes(PAYLOAD)
    headers = {"X-GitHub-Event": "issues", "X-GitHub-Delivery": "expired-1", **signers.github(hook.secret, body)}
    post_delivery(client, hook.connection_id, body, headers)
    [message] = _queued_messages()
    assert processing.process({**message, "expiresAt": int(time.time()) - 1}) is None
    recorded = events.TABLE.query(tenant, limit=10, cursor=None).items
    assert [e["type"] for e in recorded] == ["ConnectionCreated"]
