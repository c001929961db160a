"""Delivery items: one conditional put stores a delivery, dedupes it and records its event.

A delivery lives in the events table, on the item of its own event: the key is
the tenant and the event id derived from the delivery id (``event_id_for``), so
``attribute_not_exists`` on the put is the whole duplicate check, race free
under any concurrency, and the put's INSERT on the table's stream is the
event's fan-out (``chalicelib.outbound.stream``). Nothing is written after it.

The item holds the event as every event item does (``type``, ``timestamp``,
``dataZ``: ``chalicelib.events.store``) and the delivery's own attributes beside
it (``deliveryId``, ``connectionKey``, ``status``, ``receivedAt``, ``headers``...).
The payload is stored once, inside the event's ``dataZ`` (compressed exact JSON
text, ``chalicelib.core.jsontext``); a payload too large to travel in an event
stays in ``payloadZ`` and the event says ``payloadOmitted``. A delivery that
could not be normalized holds no event: its raw body (``rawZ``, compressed) and
its reason wait, ``Failed``, for a redrive (``chalicelib.inbound.redrive``); no
event reader sees it (no ``type``: ``chalicelib.events.store``).
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass
from typing import Any, cast

from chalicelib.core import aws, jsontext
from chalicelib.core.dynamo import (
    Item,
    decode_cursor,
    deserialize,
    encode_cursor,
    query_from,
    serialize,
    transact,
)
from chalicelib.core.errors import PayloadTooLarge, ServiceUnavailable, ValidationFailed
from chalicelib.core.timestamps import now_text
from chalicelib.events import store as events
from chalicelib.events.models import PlatformEvent
from chalicelib.inbound.models import Delivery, DeliveryStatus

INDEX = "byConnection"
PAYLOAD = "payloadZ"  # the payload when it is not in the event's data (too large to travel)
RAW = "rawZ"  # a Failed delivery's body as it came, compressed, until a redrive normalizes it
CLAIMS = "claimsZ"  # what its signature scheme read from it (a JWT's claims, an SNS message), for the redrive
# DynamoDB's item limit is 400 KB; leave room for the headers and the other attributes.
MAX_STORED_PAYLOAD = 360 * 1024
# A payload beyond this stays on the delivery only: the event is also an SQS message and an
# EventBridge entry (256 KB each).
MAX_EVENT_PAYLOAD = 200 * 1024
_BLOBS = (events.DATA, PAYLOAD, RAW, CLAIMS)
_DELIVERY_KEYS = {field.alias or name for name, field in Delivery.model_fields.items()} - {
    "eventId"
}  # its event's, once it has one


def event_id_for(delivery_id: str) -> str:
    """The delivery's event id, and so its item's sort key: derived, so a repeat finds the same item."""
    return f"evt-{hashlib.sha256(delivery_id.encode()).hexdigest()[:24]}"


def connection_key(tenant_id: str, connection_id: str) -> str:
    return f"{tenant_id}#{connection_id}"


def event_data(delivery: Delivery) -> dict[str, Any]:
    """The event's ``data``: the delivery's ids and its payload, unless that is too large to travel."""
    data: dict[str, Any] = {
        "deliveryId": delivery.delivery_id,
        "connectionId": delivery.connection_id,
        "providerId": delivery.provider_id,
        "providerDeliveryId": delivery.provider_delivery_id,
        "eventName": delivery.event_name,
    }
    if len(jsontext.dumps(delivery.payload)) > MAX_EVENT_PAYLOAD:
        return data | {"payloadOmitted": True}
    return data | {"payload": delivery.payload}


def _checked(blob: bytes) -> bytes:
    if len(blob) > MAX_STORED_PAYLOAD:
        raise PayloadTooLarge(f"The payload is too large to retain ({len(blob)} bytes compressed).")
    return blob


def _delivery_part(delivery: Delivery) -> Item:
    plain: Item = delivery.model_dump(
        mode="json",
        by_alias=True,
        exclude_none=True,
        exclude={"payload", "event_id", "processed_at", "normalized_event_type"},
    )
    plain["eventId"] = event_id_for(delivery.delivery_id)
    plain["connectionKey"] = connection_key(delivery.tenant_id, delivery.connection_id)
    return plain


def processed_item(delivery: Delivery, event: PlatformEvent) -> Item:
    """The one item of a normalized delivery: its event's attributes and its own."""
    item = _delivery_part(delivery) | events.item(event)
    _checked(item[events.DATA])
    if "payload" not in event.data:
        item[PAYLOAD] = _checked(jsontext.compress(delivery.payload))
    return item


def failed_item(delivery: Delivery, body: bytes, claims: dict[str, Any] | None) -> Item:
    """The one item of a delivery that could not be normalized: no event, its body kept for a redrive."""
    item = _delivery_part(delivery) | {RAW: _checked(zlib.compress(body))}
    if claims is not None:
        item[CLAIMS] = _checked(jsontext.compress(claims))
    return item


def from_item(item: Item, *, with_payload: bool = True) -> Delivery:
    """The delivery an item holds: its own attributes, and what its event (if it has one yet) says."""
    delivery = {name: value for name, value in item.items() if name in _DELIVERY_KEYS}
    if "type" in item:
        delivery |= {"normalizedEventType": item["type"], "eventId": item["eventId"], "processedAt": item["timestamp"]}
    if with_payload and PAYLOAD in item:
        delivery["payload"] = jsontext.decompress(bytes(item[PAYLOAD]))
    elif with_payload and events.DATA in item:
        delivery["payload"] = jsontext.decompress(bytes(item[events.DATA])).get("payload")
    return Delivery.model_validate(delivery)


@dataclass(frozen=True)
class Raw:
    """What a Failed delivery kept of its request, for a redrive to normalize it again."""

    body: bytes
    claims: dict[str, Any] | None


def raw_of(item: Item) -> Raw | None:
    if RAW not in item:
        return None
    claims = jsontext.decompress(bytes(item[CLAIMS])) if CLAIMS in item else None
    return Raw(zlib.decompress(bytes(item[RAW])), claims)


def insert(item: Item) -> Delivery | None:
    """Store the delivery's item; when its id exists already, return the stored delivery instead."""
    client = aws.dynamodb()
    try:
        client.put_item(
            TableName=events.TABLE.name,
            Item=serialize(item),
            ConditionExpression="attribute_not_exists(eventId)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except client.exceptions.ConditionalCheckFailedException as exc:
        old = cast("dict[str, Any]", exc.response.get("Item") or {})
        return from_item(deserialize(old), with_payload=False)
    return None


def insert_failed(item: Item, announced: PlatformEvent) -> Delivery | None:
    """Store a Failed delivery's item with its ``DeliveryFailed`` event, in one transaction; a repeat as ``insert``."""
    if not transact([events.TABLE.put_new_entry(item), events.record_entry(announced)]):
        return None
    existing = get_item(str(item["tenantId"]), str(item["deliveryId"]), consistent=True)
    if existing is None:  # the event without its item: only a TTL removal between the two could leave that
        raise ServiceUnavailable("The delivery could not be stored; retry it.")
    return from_item(existing, with_payload=False)


def get_item(tenant_id: str, delivery_id: str, *, consistent: bool = False) -> Item | None:
    """The delivery's item as stored; ``None`` when there is none (or the id is not a delivery's)."""
    if not delivery_id or len(delivery_id) > 200:
        return None
    response = aws.dynamodb().get_item(
        TableName=events.TABLE.name,
        Key=events.TABLE.key(tenant_id, event_id_for(delivery_id)),
        ConsistentRead=consistent,
    )
    raw = response.get("Item")
    item = deserialize(raw) if raw else None
    return item if item is not None and item.get("deliveryId") == delivery_id else None


def get(tenant_id: str, delivery_id: str, *, with_payload: bool = True) -> Delivery | None:
    item = get_item(tenant_id, delivery_id)
    return from_item(item, with_payload=with_payload) if item else None


def list_by_connection(
    tenant_id: str, connection_id: str, limit: int, cursor: str | None
) -> tuple[list[Delivery], str | None]:
    """Newest first. The cursor carries neither tenant nor connection: both are put back from the query.

    The ``byConnection`` index of the events table holds keys only (and only delivery items, which alone
    have ``connectionKey``): projecting every attribute would double each delivery's write to serve a
    list read far less often than deliveries arrive, so a page is a keys Query and one BatchGetItem.
    """
    key = connection_key(tenant_id, connection_id)
    params: dict[str, Any] = {
        "TableName": events.TABLE.name,
        "IndexName": INDEX,
        "KeyConditionExpression": "connectionKey = :k",
        "ExpressionAttributeValues": serialize({":k": key}),
        "ScanIndexForward": False,
        "Limit": limit,
    }
    start = decode_cursor(cursor, tenant_id)
    if start is not None:
        if set(start) != {"tenantId", "eventId", "receivedAt"}:
            raise ValidationFailed("The cursor is not valid.")
        start = {**start, "connectionKey": {"S": key}}
    response = query_from(params, start)
    last = response.get("LastEvaluatedKey")
    if last:
        last = {k: v for k, v in last.items() if k != "connectionKey"}
    ids = [str(raw["eventId"]["S"]) for raw in response.get("Items", [])]
    found = {event_id: from_item(item) for event_id, item in events.TABLE.batch_get(tenant_id, ids).items()}
    return [found[i] for i in ids if i in found], encode_cursor(last, tenant_id)


def commit_redrive(current: Delivery, changes: Item, remove: list[str]) -> Item | None:
    """``Failed`` -> ``Processed`` with ``changes``, marked ``redrivenAt`` so the stream publishes the event again.

    Conditional on the delivery still being ``Failed`` at the redrive count it was read with, so two
    redrives at once publish once; ``None`` when that no longer holds.
    """
    count = current.redrive_count or 0
    entry = events.TABLE.update_entry(
        current.tenant_id,
        event_id_for(current.delivery_id),
        changes | {"status": DeliveryStatus.PROCESSED.value, "redriveCount": count + 1, events.REDRIVEN_AT: now_text()},
        condition="#st = :failed AND (attribute_not_exists(#rc) OR #rc = :count)",
        condition_values={":failed": DeliveryStatus.FAILED.value, ":count": count},
        remove=[*remove, "failureReason", "failedAt"],
        condition_names={"#st": "status", "#rc": "redriveCount"},
    )["Update"]
    client = aws.dynamodb()
    try:
        response = client.update_item(**entry, ReturnValues="ALL_NEW")
    except client.exceptions.ConditionalCheckFailedException:
        return None
    return deserialize(response["Attributes"])
