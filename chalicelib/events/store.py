"""Event items: the outbox. Partition key the tenant, sort key the event id.

The events table's stream is what fans events out (``chalicelib.outbound.stream``),
so writing an event item *is* publishing it: a state change and its event are
written in one transaction (``record_entry`` beside the state's own entry) and
can never be separated. The one exception is an inbound delivery's event
(``chalicelib.inbound.processing``), written alone before its delivery is
marked: its id comes from the delivery's, so a retry finds it and only finishes.
``data`` is stored as compressed exact JSON text (``dataZ``): any vendor number,
any string, any depth, a fraction of the size.

An inbound event does not store its payload a second time: the delivery holds
it, so the event item carries ``payloadRef`` (``{deliveryId}``) and every reader
(``get``, the stream's ``from_stream_image``) puts ``data.payload`` back from
the delivery, one eventually consistent read (an event's write cost 8-16 times
that read). The event expires with its delivery (same ``expiresAt``), so it never
outlives its payload; one read after both expired, before TTL removed them, shows
``payloadOmitted`` as an oversized payload does (docs/events.md, "Inbound payloads").
"""

from __future__ import annotations

import base64
import time
from typing import Any

from chalicelib.core import jsontext
from chalicelib.core.dynamo import Item, Table, decode_cursor, deserialize, encode_cursor, query_from, serialize
from chalicelib.core.errors import ServiceUnavailable, ValidationFailed
from chalicelib.events.models import PlatformEvent

TABLE = Table("events", sort_key="eventId")
BY_TIME = "byTime"
DATA = "dataZ"
PAYLOAD_REF = "payloadRef"


def _item(event: PlatformEvent, payload_from: str | None) -> Item:
    item = event.model_dump(mode="python", by_alias=True, exclude_none=True, exclude={"data"})
    data = event.data
    if payload_from is not None:
        data = {name: value for name, value in data.items() if name != "payload"}
        item[PAYLOAD_REF] = {"deliveryId": payload_from}
    item[DATA] = jsontext.compress(data)
    return item


def _event(item: Item) -> PlatformEvent:
    blob = item.pop(DATA, None)
    ref = item.pop(PAYLOAD_REF, None)
    if blob is not None:
        item["data"] = jsontext.decompress(bytes(blob))
    event = PlatformEvent.model_validate(item)
    if ref is not None:
        _put_back_payload(event, str(ref["deliveryId"]))
    return event


def _put_back_payload(event: PlatformEvent, delivery_id: str) -> None:
    """``data.payload`` from the delivery; raise (so the stream or the caller retries) while it may yet appear."""
    # Only an inbound event has one: every function that commits an event would otherwise load the delivery models.
    from chalicelib.inbound import store as deliveries

    found, payload = deliveries.stored_payload(event.tenant_id, delivery_id)
    if found:
        event.data["payload"] = payload
    elif event.expires_at is not None and event.expires_at <= time.time():
        event.data["payloadOmitted"] = True
    else:
        raise ServiceUnavailable(f"The payload of event '{event.event_id}' cannot be read now; retry.")


def insert(event: PlatformEvent, *, payload_from: str | None = None) -> bool:
    """Record the event once; ``False`` when this event id was already recorded.

    ``payload_from`` names the delivery that holds ``data.payload``; the item then stores a reference to it.
    """
    return TABLE.put_new(_item(event, payload_from))


def exists(tenant_id: str, event_id: str) -> bool:
    """Whether the event is recorded (a consistent read)."""
    return TABLE.exists(tenant_id, event_id)


def absent_entry(tenant_id: str, event_id: str) -> dict[str, Any]:
    """A transaction step that holds only while the event is not recorded."""
    return TABLE.absent_entry(tenant_id, event_id)


def record_entry(event: PlatformEvent, *, payload_from: str | None = None) -> dict[str, Any]:
    """The event's ``Put`` for the same transaction as the state change it announces.

    ``payload_from`` names the delivery that holds ``data.payload``; the item then stores a reference to it.
    """
    return TABLE.put_new_entry(_item(event, payload_from))


def get(tenant_id: str, event_id: str) -> PlatformEvent | None:
    item = TABLE.get(tenant_id, event_id)
    return _event(item) if item else None


def get_many(tenant_id: str, event_ids: list[str]) -> dict[str, PlatformEvent]:
    """The recorded ones of ``event_ids``, by id: one ``BatchGetItem`` per 100 (``Table.batch_get``)."""
    return {event_id: _event(item) for event_id, item in TABLE.batch_get(tenant_id, event_ids).items()}


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


def from_stream_image(image: dict[str, Any]) -> PlatformEvent:
    """A stream record's ``NewImage`` as Lambda delivers it (binary attributes in base64)."""
    raw = dict(image)
    blob = raw.pop(DATA, None)
    item = deserialize(raw)
    if blob is not None:
        value = blob["B"]
        item[DATA] = base64.b64decode(value) if isinstance(value, str) else bytes(value)
    return _event(item)
