"""Event items: the outbox. Partition key the tenant, sort key the event id.

The events table's stream is what fans events out (``chalicelib.outbound.stream``),
so writing an event item *is* publishing it: a state change and its event are
written in one transaction (``record_entry`` beside the state's own entry) and
can never be separated. ``data`` is stored as compressed exact JSON text
(``dataZ``): any vendor number, any string, any depth, a fraction of the size.
"""

from __future__ import annotations

import base64
from typing import Any

from chalicelib.core import jsontext
from chalicelib.core.dynamo import Item, Table, deserialize
from chalicelib.events.models import PlatformEvent

TABLE = Table("events", sort_key="eventId")
DATA = "dataZ"


def _item(event: PlatformEvent) -> Item:
    item = event.model_dump(mode="python", by_alias=True, exclude_none=True, exclude={"data"})
    item[DATA] = jsontext.compress(event.data)
    return item


def _event(item: Item) -> PlatformEvent:
    blob = item.pop(DATA, None)
    if blob is not None:
        item["data"] = jsontext.decompress(bytes(blob))
    return PlatformEvent.model_validate(item)


def insert(event: PlatformEvent) -> bool:
    """Record the event once; ``False`` when this event id was already recorded."""
    return TABLE.put_new(_item(event))


def record_entry(event: PlatformEvent) -> dict[str, Any]:
    """The event's ``Put`` for the same transaction as the state change it announces."""
    return TABLE.put_new_entry(_item(event))


def get(tenant_id: str, event_id: str) -> PlatformEvent | None:
    item = TABLE.get(tenant_id, event_id)
    return _event(item) if item else None


def from_stream_image(image: dict[str, Any]) -> PlatformEvent:
    """A stream record's ``NewImage`` as Lambda delivers it (binary attributes in base64)."""
    raw = dict(image)
    blob = raw.pop(DATA, None)
    item = deserialize(raw)
    if blob is not None:
        value = blob["B"]
        item[DATA] = base64.b64decode(value) if isinstance(value, str) else bytes(value)
    return _event(item)
