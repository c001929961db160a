"""Delivery items: one conditional put both stores a delivery and detects its repeat.

The partition key is the tenant and the sort key the deterministic delivery
id, so ``attribute_not_exists`` on the put is the whole duplicate check, race
free under any concurrency. The payload is kept zlib-compressed in a binary
attribute: vendor JSON compresses well under DynamoDB's 400 KB item limit, key
order and unicode survive untouched, and deep nesting is not a problem. A
Received delivery is in the sparse ``inflight`` index
(``chalicelib.core.inflight``) until it is Processed, so the sweeper re-sends one
whose hand-off failed and whose vendor never retried.
"""

from __future__ import annotations

import json
import zlib
from typing import Any, cast

from chalicelib.core import aws, inflight
from chalicelib.core.config import get_settings
from chalicelib.core.dynamo import decode_cursor, deserialize, encode_cursor, query_from, serialize
from chalicelib.core.errors import PayloadTooLarge, ValidationFailed
from chalicelib.inbound.models import Delivery, DeliveryStatus

INDEX = "byConnection"
PAYLOAD = "payloadZ"
# DynamoDB's item limit is 400 KB; leave room for the headers and the other attributes.
MAX_STORED_PAYLOAD = 360 * 1024


def table_name() -> str:
    return get_settings().table_name("deliveries")


def connection_key(tenant_id: str, connection_id: str) -> str:
    return f"{tenant_id}#{connection_id}"


def _to_item(delivery: Delivery) -> dict[str, Any]:
    plain = delivery.model_dump(mode="json", by_alias=True, exclude_none=True, exclude={"payload", "trace_id"})
    plain["connectionKey"] = connection_key(delivery.tenant_id, delivery.connection_id)
    if delivery.trace_id:
        plain["traceId"] = delivery.trace_id
    plain |= inflight.marker(delivery.delivery_id, get_settings().delivery_received_deadline_seconds)
    raw = serialize(plain)
    blob = zlib.compress(json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode())
    if len(blob) > MAX_STORED_PAYLOAD:
        raise PayloadTooLarge(f"The payload is too large to retain ({len(blob)} bytes compressed).")
    raw[PAYLOAD] = {"B": blob}
    return raw


def _from_item(raw: dict[str, Any]) -> Delivery:
    raw = dict(raw)
    blob = raw.pop(PAYLOAD, None)
    item = deserialize(raw)
    item.pop("connectionKey", None)
    if blob is not None:
        item["payload"] = json.loads(zlib.decompress(bytes(blob["B"])))
    return Delivery.model_validate(item)


def insert(delivery: Delivery) -> Delivery | None:
    """Store ``delivery``; when its id exists already, return the stored one instead."""
    client = aws.dynamodb()
    try:
        client.put_item(
            TableName=table_name(),
            Item=_to_item(delivery),
            ConditionExpression="attribute_not_exists(deliveryId)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except client.exceptions.ConditionalCheckFailedException as exc:
        old = cast("dict[str, Any]", exc.response.get("Item") or {})
        return _from_item(old)
    return None


def get(tenant_id: str, delivery_id: str) -> Delivery | None:
    if not delivery_id or len(delivery_id) > 200:
        return None
    response = aws.dynamodb().get_item(
        TableName=table_name(), Key=serialize({"tenantId": tenant_id, "deliveryId": delivery_id})
    )
    raw = response.get("Item")
    return _from_item(raw) if raw else None


def list_by_connection(
    tenant_id: str, connection_id: str, limit: int, cursor: str | None
) -> tuple[list[Delivery], str | None]:
    """Newest first. The cursor carries neither tenant nor connection: both are put back from the query."""
    key = connection_key(tenant_id, connection_id)
    params: dict[str, Any] = {
        "TableName": table_name(),
        "IndexName": INDEX,
        "KeyConditionExpression": "connectionKey = :k",
        "ExpressionAttributeValues": serialize({":k": key}),
        "ScanIndexForward": False,
        "Limit": limit,
    }
    start = decode_cursor(cursor, tenant_id)
    if start is not None:
        if set(start) != {"tenantId", "deliveryId", "receivedAt"}:
            raise ValidationFailed("The cursor is not valid.")
        start = {**start, "connectionKey": {"S": key}}
    response = query_from(params, start)
    last = response.get("LastEvaluatedKey")
    if last:
        last = {k: v for k, v in last.items() if k != "connectionKey"}
    return [_from_item(raw) for raw in response.get("Items", [])], encode_cursor(last, tenant_id)


def mark_processed(tenant_id: str, delivery_id: str, event_id: str, processed_at: str) -> None:
    aws.dynamodb().update_item(
        TableName=table_name(),
        Key=serialize({"tenantId": tenant_id, "deliveryId": delivery_id}),
        UpdateExpression="SET #s = :s, eventId = :e, processedAt = :p " + inflight.REMOVE,
        ConditionExpression="attribute_exists(deliveryId)",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues=serialize({":s": "Processed", ":e": event_id, ":p": processed_at}),
    )


def postpone_resend(tenant_id: str, delivery_id: str, now: float) -> bool:
    """Push a Received delivery's passed deadline out before the sweeper re-sends it; ``False`` if it is no
    longer Received or no longer due (the index is eventually consistent; this condition is not)."""
    later = inflight.deadline(get_settings().delivery_received_deadline_seconds, now)
    client = aws.dynamodb()
    try:
        client.update_item(
            TableName=table_name(),
            Key=serialize({"tenantId": tenant_id, "deliveryId": delivery_id}),
            UpdateExpression="SET #d = :d",
            ConditionExpression="#s = :received AND #d < :now",
            ExpressionAttributeNames={"#s": "status", "#d": inflight.DEADLINE},
            ExpressionAttributeValues=serialize(
                {":d": later, ":received": DeliveryStatus.RECEIVED.value, ":now": round(now, 3)}
            ),
        )
    except client.exceptions.ConditionalCheckFailedException:
        return False
    return True
