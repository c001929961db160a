"""Delivery items: one conditional put both stores a delivery and detects its repeat.

The partition key is the tenant and the sort key the deterministic delivery
id, so ``attribute_not_exists`` on the put is the whole duplicate check, race
free under any concurrency. The payload is kept zlib-compressed in a binary
attribute as exact JSON text (``chalicelib.core.jsontext``): vendor JSON compresses
well under DynamoDB's 400 KB item limit, key order, unicode (even a lone
surrogate) and every number (even one DynamoDB or a float cannot hold) survive
untouched, and deep nesting is not a problem. A
Received delivery is in the sparse ``inflight`` index
(``chalicelib.core.inflight``) until it is Processed or Failed, so the sweeper
re-sends one whose hand-off failed and whose vendor never retried.
"""

from __future__ import annotations

from typing import Any, cast

from chalicelib.core import aws, inflight, jsontext
from chalicelib.core.config import get_settings
from chalicelib.core.dynamo import batch_get_raw, decode_cursor, deserialize, encode_cursor, query_from, serialize
from chalicelib.core.errors import PayloadTooLarge, ValidationFailed
from chalicelib.inbound.models import Delivery, DeliveryStatus

INDEX = "byConnection"
PAYLOAD = "payloadZ"
# DynamoDB's item limit is 400 KB; leave room for the headers and the other attributes.
# The attributes that hold a delivery in the sweeper's index, dropped when it reaches a final state.
_INFLIGHT = f"{inflight.SHARD}, {inflight.DEADLINE}"
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
    blob = jsontext.compress(delivery.payload)
    if len(blob) > MAX_STORED_PAYLOAD:
        raise PayloadTooLarge(f"The payload is too large to retain ({len(blob)} bytes compressed).")
    raw[PAYLOAD] = {"B": blob}
    return raw


def _from_item(raw: dict[str, Any], with_payload: bool = True) -> Delivery:
    raw = dict(raw)
    blob = raw.pop(PAYLOAD, None)
    item = deserialize(raw)
    item.pop("connectionKey", None)
    if blob is not None and with_payload:
        item["payload"] = jsontext.decompress(bytes(blob["B"]))
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


def _key(tenant_id: str, delivery_id: str) -> dict[str, Any]:
    return serialize({"tenantId": tenant_id, "deliveryId": delivery_id})


def get(tenant_id: str, delivery_id: str, *, with_payload: bool = True) -> Delivery | None:
    """``with_payload=False`` reads a delivery even when its payload is what processing chokes on."""
    if not delivery_id or len(delivery_id) > 200:
        return None
    response = aws.dynamodb().get_item(TableName=table_name(), Key=_key(tenant_id, delivery_id))
    raw = response.get("Item")
    return _from_item(raw, with_payload) if raw else None


def stored_payload(tenant_id: str, delivery_id: str) -> tuple[bool, Any]:
    """The delivery's payload alone, for the event that references it (``chalicelib.events.store``).

    Eventually consistent: the payload never changes after the put that stored it, which finished before
    the delivery was queued. ``(False, None)`` when the delivery is not there.
    """
    response = aws.dynamodb().get_item(
        TableName=table_name(),
        Key=_key(tenant_id, delivery_id),
        ProjectionExpression="#p",
        ExpressionAttributeNames={"#p": PAYLOAD},
    )
    blob = response.get("Item", {}).get(PAYLOAD)
    if blob is None:
        return False, None
    return True, jsontext.decompress(bytes(blob["B"]))


def list_by_connection(
    tenant_id: str, connection_id: str, limit: int, cursor: str | None
) -> tuple[list[Delivery], str | None]:
    """Newest first. The cursor carries neither tenant nor connection: both are put back from the query.

    The ``byConnection`` index holds keys only: an index projecting every attribute doubled each
    delivery's writes (its payload) to serve a list that is read far less often than deliveries arrive,
    so a page is a keys Query and one BatchGetItem (docs/performance.md, "Cost per event").
    """
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
    ids = [str(raw["deliveryId"]["S"]) for raw in response.get("Items", [])]
    found = _batch_get(tenant_id, ids)
    return [found[i] for i in ids if i in found], encode_cursor(last, tenant_id)


def _batch_get(tenant_id: str, delivery_ids: list[str]) -> dict[str, Delivery]:
    """The page's deliveries by id (one call per page: a list page holds at most 100)."""
    keys = [_key(tenant_id, i) for i in delivery_ids]
    deliveries = (_from_item(raw) for raw in batch_get_raw(table_name(), keys))
    return {delivery.delivery_id: delivery for delivery in deliveries}


def mark_processed(tenant_id: str, delivery_id: str, event_id: str, processed_at: str) -> bool:
    """``Received`` (or ``Failed``) -> ``Processed`` once its event is recorded; ``False`` if already
    ``Processed`` or gone.

    ``Failed`` is included because a delivery whose event exists *is* processed: a copy of its message
    (the sweeper's re-send) can succeed after the dead-letter consumer gave the original up.
    """
    client = aws.dynamodb()
    try:
        client.update_item(
            TableName=table_name(),
            Key=_key(tenant_id, delivery_id),
            UpdateExpression="SET #s = :s, eventId = :e, processedAt = :p REMOVE failureReason, failedAt, " + _INFLIGHT,
            ConditionExpression="#s IN (:received, :failed)",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues=serialize(
                {
                    ":s": DeliveryStatus.PROCESSED.value,
                    ":e": event_id,
                    ":p": processed_at,
                    ":received": DeliveryStatus.RECEIVED.value,
                    ":failed": DeliveryStatus.FAILED.value,
                }
            ),
        )
    except client.exceptions.ConditionalCheckFailedException:
        return False
    return True


def _transition(
    tenant_id: str, delivery_id: str, expected: DeliveryStatus, update: str, values: dict[str, Any], with_payload: bool
) -> Delivery | None:
    """Apply ``update`` only while the delivery is ``expected``; the updated delivery, or ``None``."""
    client = aws.dynamodb()
    try:
        response = client.update_item(
            TableName=table_name(),
            Key=_key(tenant_id, delivery_id),
            UpdateExpression=update,
            ConditionExpression="#s = :expected",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues=serialize({":expected": expected.value, **values}),
            ReturnValues="ALL_NEW",
        )
    except client.exceptions.ConditionalCheckFailedException:
        return None
    return _from_item(response["Attributes"], with_payload)


def failed_entry(tenant_id: str, delivery_id: str, reason: str, failed_at: str) -> dict[str, Any]:
    """``Received`` -> ``Failed``, committed together with the ``DeliveryFailed`` event."""
    return {
        "Update": {
            "TableName": table_name(),
            "Key": _key(tenant_id, delivery_id),
            "UpdateExpression": "SET #s = :s, failureReason = :r, failedAt = :f REMOVE " + _INFLIGHT,
            "ConditionExpression": "#s = :expected",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": serialize(
                {":s": DeliveryStatus.FAILED.value, ":r": reason, ":f": failed_at, ":expected": "Received"}
            ),
        }
    }


def mark_failed(tenant_id: str, delivery_id: str, reason: str, failed_at: str) -> Delivery | None:
    """``Received`` -> ``Failed`` with no event (a redrive that could not queue: the failure was announced)."""
    client = aws.dynamodb()
    try:
        response = client.update_item(
            **failed_entry(tenant_id, delivery_id, reason, failed_at)["Update"], ReturnValues="ALL_NEW"
        )
    except client.exceptions.ConditionalCheckFailedException:
        return None
    return _from_item(response["Attributes"], with_payload=False)


def mark_redriven(tenant_id: str, delivery_id: str) -> Delivery | None:
    """``Failed`` -> ``Received``, counting the redrive; ``None`` when it is not ``Failed`` (or not there)."""
    update = (
        "SET #s = :s, redriveCount = if_not_exists(redriveCount, :zero) + :one, "
        f"{inflight.SHARD} = :shard, {inflight.DEADLINE} = :deadline REMOVE failureReason, failedAt"
    )
    marker = inflight.marker(delivery_id, get_settings().delivery_received_deadline_seconds)
    values = {
        ":s": DeliveryStatus.RECEIVED.value,
        ":zero": 0,
        ":one": 1,
        ":shard": marker[inflight.SHARD],
        ":deadline": marker[inflight.DEADLINE],
    }
    return _transition(tenant_id, delivery_id, DeliveryStatus.FAILED, update, values, with_payload=True)


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
