"""Event items; the partition key is the tenant, the sort key the event id."""

from __future__ import annotations

from chalicelib.core.dynamo import Table
from chalicelib.events.models import PlatformEvent

TABLE = Table("events", sort_key="eventId")


def insert(event: PlatformEvent) -> bool:
    """Record the event once; ``False`` when this event id was already recorded."""
    return TABLE.put_new(event.model_dump(mode="json", by_alias=True, exclude_none=True))


def get(tenant_id: str, event_id: str) -> PlatformEvent | None:
    item = TABLE.get(tenant_id, event_id)
    return PlatformEvent.model_validate(item) if item else None
