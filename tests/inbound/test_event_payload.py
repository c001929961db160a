"""An inbound event references its delivery's payload instead of storing a second copy."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from chalicelib.core import aws, jsontext
from chalicelib.core.dynamo import deserialize, serialize
from chalicelib.core.errors import ServiceUnavailable
from chalicelib.events import bus
from chalicelib.events import store as events
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
    assert int(raw["expiresAt"]["N"]) == delivery["expiresAt"]

    read = events.get(tenant, delivery["eventId"])
    assert read is not None and read.data["payload"] == PAYLOAD
    streamed = events.from_stream_image(raw)  # the stream handler's reader: fan-out body and bus detail
    assert jsontext.loads(fanout.body(streamed))["data"]["payload"] == PAYLOAD
    assert jsontext.loads(bus.detail(streamed))["data"]["payload"] == PAYLOAD
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
