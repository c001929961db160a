"""The tenant's recorded platform events, read as the API reads them (``data`` decompressed)."""

from __future__ import annotations

from typing import Any


def recorded(tenant: str, event_type: str | None = None) -> list[dict[str, Any]]:
    from chalicelib.events import store

    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = store.TABLE.query(tenant, limit=100, cursor=cursor)
        for item in page.items:
            if "type" in item and (event_type is None or item["type"] == event_type):  # a Failed delivery: none
                event = store.get(tenant, item["eventId"])
                assert event is not None
                found.append(event.model_dump(by_alias=True))
        if page.next_cursor is None:
            return found
        cursor = page.next_cursor
