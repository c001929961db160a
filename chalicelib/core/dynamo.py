"""Thin typed access to DynamoDB tables with tenant-first keys and opaque cursors.

Items are plain dicts of JSON values (and ``bytes`` for compressed blobs).
Nested free-form data (configuration, results) is stored as native maps; floats
round-trip through ``Decimal`` because DynamoDB has no binary float type.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from chalicelib.core import aws, backoff, jsontext
from chalicelib.core.config import get_settings
from chalicelib.core.errors import ValidationFailed

Item = dict[str, Any]
MAX_SORT_KEY_BYTES = 1024
BATCH_GET_KEYS = 100  # BatchGetItem's limit per call
UNPROCESSED_PAUSE_SECONDS = 0.05
MAX_INTEGER_DIGITS = 38  # DynamoDB's number precision


def _to_dynamo(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {str(k): _to_dynamo(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_dynamo(v) for v in value]
    return value


def _from_dynamo(value: Any) -> Any:
    from boto3.dynamodb.types import Binary

    if isinstance(value, Decimal):
        # 1e40 was sent (and stored) as a float: as an int it would come back as 41 digits the API refuses.
        whole = value == value.to_integral_value() and value.adjusted() < MAX_INTEGER_DIGITS
        return int(value) if whole else float(value)
    if isinstance(value, Binary):
        return value.value  # type: ignore[attr-defined]
    if isinstance(value, dict):
        return {k: _from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list | set | tuple):
        return [_from_dynamo(v) for v in value]
    return value


def serialize(item: Item) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeSerializer

    serializer = TypeSerializer()
    return {k: serializer.serialize(v) for k, v in _to_dynamo(item).items() if v is not None}


def deserialize(raw: dict[str, Any]) -> Item:
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    return {k: _from_dynamo(deserializer.deserialize(v)) for k, v in raw.items()}


@dataclass(frozen=True)
class Page:
    items: list[Item]
    next_cursor: str | None


def encode_cursor(last_key: dict[str, Any] | None, tenant_id: str) -> str | None:
    """Drop the tenant from the cursor; ``decode_cursor`` puts the caller's back."""
    if not last_key:
        return None
    plain = {k: v for k, v in deserialize(last_key).items() if k != "tenantId"}
    return base64.urlsafe_b64encode(json.dumps(plain, sort_keys=True).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, tenant_id: str) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        plain = jsontext.read(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(plain, dict) or not all(isinstance(v, str | int) for v in plain.values()):
            raise ValueError("cursor is not a key")
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise ValidationFailed("The cursor is not valid.", []) from exc
    plain["tenantId"] = tenant_id
    return serialize(plain)


def query_from(params: dict[str, Any], start_key: dict[str, Any] | None) -> dict[str, Any]:
    """Run one Query page from a decoded cursor; a cursor DynamoDB rejects is the caller's 400, not a 500."""
    if start_key:
        params = {**params, "ExclusiveStartKey": start_key}
    client = aws.dynamodb()
    try:
        return dict(client.query(**params))
    except client.exceptions.ClientError as exc:
        if start_key and exc.response.get("Error", {}).get("Code") == "ValidationException":
            raise ValidationFailed("The cursor is not valid.") from exc
        raise


class Table:
    """One DynamoDB table whose partition key is ``tenantId`` (or starts with it)."""

    def __init__(self, logical_name: str, sort_key: str) -> None:
        self.logical_name = logical_name
        self.sort_key = sort_key

    @property
    def name(self) -> str:
        return get_settings().table_name(self.logical_name)

    def key(self, tenant_id: str, sort_value: str) -> dict[str, Any]:
        return serialize({"tenantId": tenant_id, self.sort_key: sort_value})

    def get(self, tenant_id: str, sort_value: str) -> Item | None:
        if not sort_value or len(sort_value.encode()) > MAX_SORT_KEY_BYTES:
            return None  # DynamoDB rejects such a key; no item can have it
        response = aws.dynamodb().get_item(TableName=self.name, Key=self.key(tenant_id, sort_value))
        raw = response.get("Item")
        return deserialize(raw) if raw else None

    def exists(self, tenant_id: str, sort_value: str) -> bool:
        """Whether the item is there now (a consistent read of its key only)."""
        response = aws.dynamodb().get_item(
            TableName=self.name,
            Key=self.key(tenant_id, sort_value),
            ConsistentRead=True,
            ProjectionExpression="#sk",
            ExpressionAttributeNames={"#sk": self.sort_key},
        )
        return "Item" in response

    def put_new(self, item: Item) -> bool:
        """Write only if absent; ``False`` means the key already exists."""
        client = aws.dynamodb()
        try:
            client.put_item(**self.put_new_entry(item)["Put"])
        except client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def put(self, item: Item) -> None:
        aws.dynamodb().put_item(TableName=self.name, Item=serialize(item))

    def update(
        self,
        tenant_id: str,
        sort_value: str,
        changes: Item,
        condition: str | None = None,
        condition_values: Item | None = None,
        remove: list[str] | None = None,
    ) -> Item | None:
        """Set ``changes`` on an existing item and ``remove`` attributes, in one write; ``None`` when it is gone
        or the condition fails."""
        entry = self.update_entry(tenant_id, sort_value, changes, condition, condition_values, remove)["Update"]
        client = aws.dynamodb()
        try:
            response = client.update_item(**entry, ReturnValues="ALL_NEW")
        except client.exceptions.ConditionalCheckFailedException:
            return None
        return deserialize(response["Attributes"])

    def update_entry(
        self,
        tenant_id: str,
        sort_value: str,
        changes: Item,
        condition: str | None = None,
        condition_values: Item | None = None,
        remove: list[str] | None = None,
        condition_names: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """The ``Update`` of an existing item, for ``update`` or for one step of a ``transact``."""
        names = {f"#f{i}": field for i, field in enumerate(changes)}
        values = {f":v{i}": value for i, value in enumerate(changes.values())}
        expression = "SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(changes)))
        if remove:
            names |= {f"#r{i}": field for i, field in enumerate(remove)}
            expression += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(remove)))
        names["#sk"] = self.sort_key
        names.update(condition_names or {})
        values.update(condition_values or {})
        return {
            "Update": {
                "TableName": self.name,
                "Key": self.key(tenant_id, sort_value),
                "UpdateExpression": expression,
                "ConditionExpression": "attribute_exists(#sk)" + (f" AND ({condition})" if condition else ""),
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": serialize(values),
            }
        }

    def put_new_entry(self, item: Item) -> dict[str, Any]:
        """The ``Put`` of an item that must not exist yet, for one step of a ``transact``."""
        return {
            "Put": {
                "TableName": self.name,
                "Item": serialize(item),
                "ConditionExpression": "attribute_not_exists(#sk)",
                "ExpressionAttributeNames": {"#sk": self.sort_key},
            }
        }

    def delete(self, tenant_id: str, sort_value: str) -> None:
        aws.dynamodb().delete_item(TableName=self.name, Key=self.key(tenant_id, sort_value))

    def batch_get(self, tenant_id: str, sort_values: list[str]) -> dict[str, Item]:
        """Items by sort value (``batch_get_raw``): a page read through a keys-only index."""
        keys = [self.key(tenant_id, value) for value in dict.fromkeys(sort_values)]
        items = (deserialize(raw) for raw in batch_get_raw(self.name, keys))
        return {str(item[self.sort_key]): item for item in items}

    def query(
        self,
        tenant_id: str,
        *,
        limit: int,
        cursor: str | None,
        filters: Item | None = None,
        sort_prefix: str | None = None,
    ) -> Page:
        """One tenant's items, newest key order, equality filters applied server-side."""
        names: dict[str, str] = {"#pk": "tenantId"}
        values: Item = {":pk": tenant_id}
        condition = "#pk = :pk"
        if sort_prefix:
            names["#sk"] = self.sort_key
            values[":skp"] = sort_prefix
            condition += " AND begins_with(#sk, :skp)"
        params: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": condition,
            "Limit": limit,
        }
        active_filters = {k: v for k, v in (filters or {}).items() if v is not None}
        if active_filters:
            clauses = []
            for i, (field, value) in enumerate(active_filters.items()):
                names[f"#q{i}"] = field
                values[f":q{i}"] = value
                clauses.append(f"#q{i} = :q{i}")
            params["FilterExpression"] = " AND ".join(clauses)
        params["ExpressionAttributeNames"] = names
        params["ExpressionAttributeValues"] = serialize(values)
        start = decode_cursor(cursor, tenant_id)
        if start is not None and set(start) != {"tenantId", self.sort_key}:
            raise ValidationFailed("The cursor is not valid.")  # a cursor from another list
        response = query_from(params, start)
        items = [deserialize(raw) for raw in response.get("Items", [])]
        return Page(items=items, next_cursor=encode_cursor(response.get("LastEvaluatedKey"), tenant_id))


def batch_get_raw(table: str, keys: list[dict[str, Any]], *, consistent: bool = False) -> list[dict[str, Any]]:
    """The items of ``keys`` that exist, as DynamoDB returns them (``batch_get_tables`` for one table)."""
    return batch_get_tables({table: keys}, consistent=consistent)[table]


def batch_get_tables(
    keys_by_table: dict[str, list[dict[str, Any]]], *, consistent: bool = False
) -> dict[str, list[dict[str, Any]]]:
    """Per table, the items of its keys that exist: one ``BatchGetItem`` per 100 keys, whatever their tables.

    Keys DynamoDB leaves unprocessed (it was throttled) are asked for again after a jittered pause
    (``core.backoff``), so a throttled table is not hammered; botocore's own retries cover errors.
    """
    client = aws.dynamodb()
    found: dict[str, list[dict[str, Any]]] = {table: [] for table in keys_by_table}
    wanted = [(table, key) for table, keys in keys_by_table.items() for key in keys]
    for start in range(0, len(wanted), BATCH_GET_KEYS):
        request: Any = {}
        for table, key in wanted[start : start + BATCH_GET_KEYS]:
            request.setdefault(table, {"Keys": [], "ConsistentRead": consistent})["Keys"].append(key)
        tries = 0
        while request:
            response = client.batch_get_item(RequestItems=request)
            for table, items in response.get("Responses", {}).items():
                found[table] += items
            request = response.get("UnprocessedKeys") or None
            if request:
                time.sleep(backoff.pause(tries, base=UNPROCESSED_PAUSE_SECONDS, cap=1.0))
                tries += 1
    return found


def transact(entries: list[dict[str, Any]]) -> set[int]:
    """Commit every entry or none: the indices whose condition failed, empty when committed.

    A state change and its platform event go through here together, so neither
    can exist without the other. Any other cancellation (a conflicting
    transaction, throttling) is raised: nothing was written and the caller's
    retry starts over.
    """
    client = aws.dynamodb()
    try:
        client.transact_write_items(TransactItems=entries)  # type: ignore[arg-type]
    except client.exceptions.TransactionCanceledException as exc:
        reasons = exc.response.get("CancellationReasons", [])
        failed = {i for i, reason in enumerate(reasons) if reason.get("Code") == "ConditionalCheckFailed"}
        if not failed or any(r.get("Code") not in ("None", "ConditionalCheckFailed", None) for r in reasons):
            raise
        return failed
    return set()
