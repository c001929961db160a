"""Connection items; the partition key is the tenant, the sort key the connection id."""

from __future__ import annotations

from typing import Any

from chalicelib.connections.models import Connection
from chalicelib.core.dynamo import Table

TABLE = Table("connections", sort_key="connectionId")


def _item(connection: Connection) -> dict[str, Any]:
    return connection.model_dump(mode="json", by_alias=True, exclude_none=True, exclude={"trace_id"})


def insert(connection: Connection) -> bool:
    return TABLE.put_new(_item(connection))


def get(tenant_id: str, connection_id: str) -> Connection | None:
    item = TABLE.get(tenant_id, connection_id)
    return Connection.model_validate(item) if item else None


def list_page(
    tenant_id: str, limit: int, cursor: str | None, filters: dict[str, Any]
) -> tuple[list[Connection], str | None]:
    page = TABLE.query(tenant_id, limit=limit, cursor=cursor, filters=filters)
    return [Connection.model_validate(item) for item in page.items], page.next_cursor
