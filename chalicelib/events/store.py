"""Event items: the outbox. Partition key the tenant, sort key the event id.

The events table's stream is what fans events out (``chalicelib.outbound.stream``),
so writing an event item *is* publishing it: a state change and its event are
written in one transaction (``record_entry`` beside the state's own entry) and
can never be separated. An inbound delivery is its event's own item
(``chalicelib.inbound.store``): the delivery's attributes sit beside the event's,
and the payload is in the event's ``data``, stored once. A delivery that could
not be normalized is an item with no ``type``: no reader here sees it as an event.
``data`` is stored as compressed exact JSON text (``dataZ``): any vendor number,
any string, any depth, a fraction of the size.

The stream publishes an item's INSERT, and the MODIFY of a redrive (``published``):
the redrive sets ``redrivenAt``, and the stream's failure consumer removes it when
it marks an item whose fan-out failed, so only a redrive's change is published again.
"""

from __future__ import annotations

import base64
from typing import Any

from chalicelib.core import jsontext
from chalicelib.core.dynamo import Item, Table, decode_cursor, deserialize, encode_cursor, query_from, serialize
from chalicelib.core.errors import ValidationFailed
from chalicelib.events.models import PlatformEvent

TABLE = Table("events", sort_key="eventId")
BY_TIME = "byTime"
DATA = "dataZ"
REDRIVEN_AT = "redrivenAt"
_EVENT_FIELDS = {field.alias or name for name, field in PlatformEvent.model_fields.items()}


def item(event: PlatformEvent) -> Item:
    """The event's attributes as stored (``data`` compressed)."""
    stored = event.model_dump(mode="python", by_alias=True, exclude_none=True, exclude={"data"})
    stored[DATA] = jsontext.compress(event.data)
    return stored


def _event(stored: Item) -> PlatformEvent | None:
    """The event an item holds; ``None`` for a delivery that could not be normalized (it holds none yet)."""
    if "type" not in stored:
        return None
    fields = {name: value for name, value in stored.items() if name in _EVENT_FIELDS}
    blob = stored.get(DATA)
    if blob is not None:
        fields["data"] = jsontext.decompress(bytes(blob))
    return PlatformEvent.model_validate(fields)


def insert(event: PlatformEvent) -> bool:
    """Record the event once; ``False`` when this event id was already recorded."""
    return TABLE.put_new(item(event))


def exists(tenant_id: str, event_id: str) -> bool:
    """Whether the event is recorded (a consistent read)."""
    return TABLE.exists(tenant_id, event_id)


def record_entry(event: PlatformEvent) -> dict[str, Any]:
    """The event's ``Put`` for the same transaction as the state change it announces."""
    return TABLE.put_new_entry(item(event))


def get(tenant_id: str, event_id: str) -> PlatformEvent | None:
    stored = TABLE.get(tenant_id, event_id)
    return _event(stored) if stored else None


def get_many(tenant_id: str, event_ids: list[str]) -> dict[str, PlatformEvent]:
    """The recorded ones of ``event_ids``, by id: one ``BatchGetItem`` per 100 (``Table.batch_get``)."""
    found = {event_id: _event(stored) for event_id, stored in TABLE.batch_get(tenant_id, event_ids).items()}
    return {event_id: event for event_id, event in found.items() if event is not None}


def since(tenant_id: str, start: str, *, limit: int, cursor: str | None) -> tuple[list[PlatformEvent], str | None]:
    """The tenant's events recorded at ``start`` or later, oldest first (``GET /events``, ``ipctl listen``'s replay).

    One Query of the keys-only ``byTime`` index (tenant, timestamp), then the events by id (``get_many``).
    """
    params = {
        "TableName": TABLE.name,
        "IndexName": BY_TIME,
        "KeyConditionExpression": "tenantId = :t AND #ts >= :s",
        "ExpressionAttributeNames": {"#ts": "timestamp"},
        "ExpressionAttributeValues": serialize({":t": tenant_id, ":s": start}),
        "Limit": limit,
    }
    start_key = decode_cursor(cursor, tenant_id)
    if start_key is not None and set(start_key) != {"tenantId", "eventId", "timestamp"}:
        raise ValidationFailed("The cursor is not valid.")  # a cursor from another list
    response = query_from(params, start_key)
    ids = [str(deserialize(raw)["eventId"]) for raw in response.get("Items", [])]
    found = get_many(tenant_id, ids)
    ordered = [found[event_id] for event_id in ids if event_id in found]  # one expired in between is skipped
    return ordered, encode_cursor(response.get("LastEvaluatedKey"), tenant_id)


def published(record: dict[str, Any]) -> PlatformEvent | None:
    """The event a stream record publishes: an item's INSERT, or a redrive's MODIFY (``REDRIVEN_AT``).

    ``None`` for anything else: a TTL removal, a failure mark, a delivery that holds no event.
    """
    image = record.get("dynamodb", {}).get("NewImage")
    name = record.get("eventName")
    if not image or not (name == "INSERT" or (name == "MODIFY" and REDRIVEN_AT in image)):
        return None
    raw = dict(image)
    blob = raw.pop(DATA, None)
    stored = deserialize(raw)
    if blob is not None:  # Lambda delivers binary attributes in base64
        value = blob["B"]
        stored[DATA] = base64.b64decode(value) if isinstance(value, str) else bytes(value)
    return _event(stored)


def unpublished_entry(record: dict[str, Any], reason: str, failed_at: str) -> dict[str, Any]:
    """The ``Update`` that marks the item a stream record published as not fanned out: ``failureReason``, ``failedAt``.

    An inbound delivery's item also becomes ``Failed``, which its redrive takes back (``chalicelib.inbound.redrive``);
    any other event is sent again by ``POST /events/{id}/redeliver``. ``redrivenAt`` is removed, so this change is
    not published itself. Conditional on the item still being as the record saw it (a redrive since wins)
    and not marked yet (a repeated failure message).
    """
    image = record["dynamodb"]["NewImage"]
    keys = deserialize(record["dynamodb"]["Keys"])
    changes: Item = {"failureReason": reason, "failedAt": failed_at}
    if "deliveryId" in image:
        changes["status"] = "Failed"
    seen = deserialize({"r": image[REDRIVEN_AT]})["r"] if REDRIVEN_AT in image else None
    seen_state = "attribute_not_exists(#redriven)" if seen is None else "#redriven = :seen"
    return TABLE.update_entry(
        str(keys["tenantId"]),
        str(keys["eventId"]),
        changes,
        condition=f"{seen_state} AND attribute_not_exists(#failed)",
        condition_values={":seen": seen} if seen is not None else None,
        remove=[REDRIVEN_AT] if seen is not None else None,
        condition_names={"#redriven": REDRIVEN_AT, "#failed": "failedAt"},
    )
