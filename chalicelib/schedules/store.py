"""Schedule items: partition key the tenant, sort key the schedule id; ``connectionId`` is an attribute.

A connection's schedules are found by querying the tenant's partition with a
filter on ``connectionId``: schedules are few per tenant, and only the
connection lifecycle (deactivate, activate, delete) and the list route ask.
"""

from __future__ import annotations

from typing import Any

from chalicelib.core.dynamo import Table
from chalicelib.schedules.models import Schedule

TABLE = Table("schedules", sort_key="scheduleId")
PAGE = 100


def item_of(schedule: Schedule) -> dict[str, Any]:
    return schedule.model_dump(mode="json", by_alias=True, exclude_none=True, exclude={"trace_id"})


def get(tenant_id: str, schedule_id: str) -> Schedule | None:
    item = TABLE.get(tenant_id, schedule_id)
    return Schedule.model_validate(item) if item else None


def list_page(tenant_id: str, connection_id: str, limit: int, cursor: str | None) -> tuple[list[Schedule], str | None]:
    page = TABLE.query(tenant_id, limit=limit, cursor=cursor, filters={"connectionId": connection_id})
    return [Schedule.model_validate(item) for item in page.items], page.next_cursor


def of_connection(tenant_id: str, connection_id: str) -> list[Schedule]:
    """Every schedule of one connection, all pages."""
    found: list[Schedule] = []
    cursor: str | None = None
    while True:
        items, cursor = list_page(tenant_id, connection_id, PAGE, cursor)
        found += items
        if cursor is None:
            return found


def delete_entry(tenant_id: str, schedule_id: str) -> dict[str, Any]:
    key = TABLE.key(tenant_id, schedule_id)
    return {
        "Delete": {
            "TableName": TABLE.name,
            "Key": key,
            "ConditionExpression": "attribute_exists(#sk)",
            "ExpressionAttributeNames": {"#sk": "scheduleId"},
        }
    }
