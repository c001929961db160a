"""Connection items; the partition key is the tenant, the sort key the connection id.

Active connections also carry ``sweepPartition`` (one of ``SWEEP_SHARDS`` values
derived from the id), the partition key of the sparse ``activeSweep`` index:
the health sweep pages through that index, so it reads only active connections
and never scans. Deactivating removes the attribute, which drops the item from
the index.
"""

from __future__ import annotations

import hashlib
from typing import Any

from chalicelib.connections.models import Connection, ConnectionStatus
from chalicelib.core import aws
from chalicelib.core.dynamo import Table, deserialize, serialize

TABLE = Table("connections", sort_key="connectionId")
SWEEP_INDEX = "activeSweep"
SWEEP_SHARDS = 8


def sweep_partition(connection_id: str) -> str:
    """Spreads active connections over a few index partitions so one sweep can page them in parallel."""
    shard = int(hashlib.sha256(connection_id.encode()).hexdigest()[:8], 16) % SWEEP_SHARDS
    return f"sweep-{shard}"


def _item(connection: Connection) -> dict[str, Any]:
    item = connection.model_dump(mode="json", by_alias=True, exclude_none=True, exclude={"trace_id"})
    if connection.status == ConnectionStatus.ACTIVE:
        item["sweepPartition"] = sweep_partition(connection.connection_id)
    return item


def insert_entry(connection: Connection) -> dict[str, Any]:
    """The new connection's ``Put``, committed together with its ``ConnectionCreated`` event."""
    return TABLE.put_new_entry(_item(connection))


def get(tenant_id: str, connection_id: str) -> Connection | None:
    item = TABLE.get(tenant_id, connection_id)
    return Connection.model_validate(item) if item else None


def list_page(
    tenant_id: str, limit: int, cursor: str | None, filters: dict[str, Any]
) -> tuple[list[Connection], str | None]:
    page = TABLE.query(tenant_id, limit=limit, cursor=cursor, filters=filters)
    return [Connection.model_validate(item) for item in page.items], page.next_cursor


def active_of_provider(tenant_id: str, provider_ids: set[str], most: int) -> list[str]:
    """Ids of the tenant's Active connections of these providers, at most ``most``.

    The 004 envelope without ``X-CS-Connection`` needs to know whether there is exactly one; the
    tenant's partition is read (ids only) until ``most`` are found, with the filter applied server-side.
    """
    names = {"#s": "status", "#p": "providerId", "#c": "connectionId"}
    values: dict[str, Any] = {":t": tenant_id, ":active": ConnectionStatus.ACTIVE.value}
    values.update({f":p{i}": provider_id for i, provider_id in enumerate(sorted(provider_ids))})
    pages = (
        aws.dynamodb()
        .get_paginator("query")
        .paginate(
            TableName=TABLE.name,
            KeyConditionExpression="tenantId = :t",
            FilterExpression=f"#s = :active AND #p IN ({', '.join(v for v in values if v.startswith(':p'))})",
            ProjectionExpression="#c",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=serialize(values),
        )
    )
    found: list[str] = []
    for page in pages:
        found += [deserialize(item)["connectionId"] for item in page.get("Items", [])]
        if len(found) >= most:
            return found[:most]
    return found


def record_last_run(tenant_id: str, connection_id: str, run_id: str, run_created_at: str) -> bool:
    """Point ``lastRunId`` at a finished run unless a newer run already finished (runs complete out of order)."""
    client = aws.dynamodb()
    try:
        client.update_item(
            TableName=TABLE.name,
            Key=TABLE.key(tenant_id, connection_id),
            UpdateExpression="SET lastRunId = :run, lastRunCreatedAt = :created",
            ConditionExpression=(
                "attribute_exists(connectionId) AND "
                "(attribute_not_exists(lastRunCreatedAt) OR lastRunCreatedAt <= :created)"
            ),
            ExpressionAttributeValues=serialize({":run": run_id, ":created": run_created_at}),
        )
    except client.exceptions.ConditionalCheckFailedException:
        return False
    return True


def get_item(tenant_id: str, connection_id: str) -> dict[str, Any] | None:
    """The raw item, with the health attributes the ``Connection`` shape does not carry."""
    return TABLE.get(tenant_id, connection_id)


def set_status_entry(tenant_id: str, connection_id: str, status: ConnectionStatus, at: str) -> dict[str, Any]:
    """Flip Active <-> Inactive only from the other state (the sweep index follows the status)."""
    changes: dict[str, Any] = {"status": status.value, "updatedAt": at}
    if status == ConnectionStatus.ACTIVE:
        changes |= {"activatedAt": at, "sweepPartition": sweep_partition(connection_id)}
        remove = None
    else:
        changes["deactivatedAt"] = at
        remove = ["sweepPartition"]
    return TABLE.update_entry(
        tenant_id,
        connection_id,
        changes,
        condition="#st <> :to",
        condition_values={":to": status.value},
        condition_names={"#st": "status"},
        remove=remove,
    )


def delete_entry(tenant_id: str, connection_id: str) -> dict[str, Any]:
    """Remove the item only if it is there, committed together with its ``ConnectionDeleted`` event."""
    return {
        "Delete": {
            "TableName": TABLE.name,
            "Key": TABLE.key(tenant_id, connection_id),
            "ConditionExpression": "attribute_exists(connectionId)",
        }
    }


def using_credential(tenant_id: str, credential_id: str) -> list[Connection]:
    """Every connection of the tenant on one credential: a Query of the tenant's partition, all pages."""
    found: list[Connection] = []
    params: dict[str, Any] = {
        "TableName": TABLE.name,
        "KeyConditionExpression": "tenantId = :t",
        "FilterExpression": "credentialId = :c",
        "ExpressionAttributeValues": serialize({":t": tenant_id, ":c": credential_id}),
    }
    client = aws.dynamodb()
    while True:
        response = client.query(**params)
        found += [Connection.model_validate(deserialize(raw)) for raw in response.get("Items", [])]
        if "LastEvaluatedKey" not in response:
            return found
        params["ExclusiveStartKey"] = response["LastEvaluatedKey"]
