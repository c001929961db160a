"""Run items; the partition key is the tenant, the sort key the run id.

Besides the ``Run`` fields an item carries two internal attributes:
``connectionKey`` (``<tenantId>#<connectionId>``, the ``byConnection`` index's
partition key) and ``ownerMessageId`` (the SQS message that moved the run to
Running: only its redelivery may re-execute the run). Every status change is a
conditional update, so two workers can never both move one run. While a run is
Pending or Running it is in the sparse ``inflight`` index
(``chalicelib.core.inflight``) with the deadline the sweeper acts on, and
``requeues`` counts the sweeper's re-sends of a Pending run; a final status
REMOVEs the index attributes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.core import aws, inflight
from chalicelib.core.config import get_settings
from chalicelib.core.dynamo import Table, decode_cursor, deserialize, encode_cursor, query_from, serialize
from chalicelib.core.errors import ValidationFailed
from chalicelib.runs.models import FINAL_STATUSES, Run, RunStatus

TABLE = Table("runs", sort_key="runId")
BY_CONNECTION = "byConnection"


@dataclass(frozen=True)
class StoredRun:
    run: Run
    owner_message_id: str | None
    requeues: int = 0
    deadline: float | None = None  # ``inflightDeadline``; ``None`` once final (or never swept)


# A streaming run's text so far (``chalicelib.runs.progress``); a final status removes it, the result holds it all.
PARTIAL_RESULT = "partialResult"


def connection_key(tenant_id: str, connection_id: str) -> str:
    return f"{tenant_id}#{connection_id}"


def _stored(item: dict[str, Any]) -> StoredRun:
    deadline = item.get(inflight.DEADLINE)
    return StoredRun(
        Run.model_validate(item),
        item.get("ownerMessageId"),
        int(item.get("requeues", 0)),
        float(deadline) if deadline is not None else None,
    )


def insert(run: Run, *, swept: bool = True) -> bool:
    """Write a new Pending run; ``swept`` puts it in the ``inflight`` index (a credential's verification run is
    driven by its rotation, and the rotation's own deadline ends it, so it is not)."""
    item = run.model_dump(mode="json", by_alias=True, exclude_none=True)
    item["connectionKey"] = connection_key(run.tenant_id, run.connection_id)
    if swept:
        item |= inflight.marker(run.run_id, get_settings().run_pending_deadline_seconds)
    return TABLE.put_new(item)


def get(tenant_id: str, run_id: str) -> Run | None:
    stored = get_stored(tenant_id, run_id)
    return stored.run if stored else None


def get_stored(tenant_id: str, run_id: str) -> StoredRun | None:
    item = TABLE.get(tenant_id, run_id)
    return _stored(item) if item else None


def transition(
    tenant_id: str,
    run_id: str,
    changes: dict[str, Any],
    *,
    from_status: RunStatus,
    owner_message_id: str | None = None,
    attempts: int | None = None,
) -> Run | None:
    """Apply ``changes`` only if the run is still in ``from_status`` (and owned, at ``attempts``); else ``None``.

    A change to a final status also drops the run from the ``inflight`` index.
    """
    entry = transition_entry(
        tenant_id, run_id, changes, from_status=from_status, owner_message_id=owner_message_id, attempts=attempts
    )
    client = aws.dynamodb()
    try:
        response = client.update_item(**entry["Update"], ReturnValues="ALL_NEW")
    except client.exceptions.ConditionalCheckFailedException:
        return None
    return Run.model_validate(deserialize(response["Attributes"]))


def transition_entry(
    tenant_id: str,
    run_id: str,
    changes: dict[str, Any],
    *,
    from_status: RunStatus,
    owner_message_id: str | None = None,
    attempts: int | None = None,
) -> dict[str, Any]:
    """The conditional ``Update`` behind ``transition``, for a transaction with the run's event."""
    names: dict[str, str] = {"#status": "status"}
    values: dict[str, Any] = {":from": from_status.value}
    conditions = ["#status = :from"]
    if owner_message_id is not None:
        names["#owner"] = "ownerMessageId"
        values[":owner"] = owner_message_id
        conditions.append("#owner = :owner")
    if attempts is not None:
        names["#attempts"] = "attempts"
        values[":attempts"] = attempts
        conditions.append("#attempts = :attempts")
    final = changes.get("status") in FINAL_STATUSES
    return TABLE.update_entry(
        tenant_id,
        run_id,
        changes,
        " AND ".join(conditions),
        condition_values=values,
        condition_names=names,
        remove=[inflight.SHARD, inflight.DEADLINE, PARTIAL_RESULT] if final else None,
    )


def list_page(
    tenant_id: str, limit: int, cursor: str | None, connection_id: str | None, status: RunStatus | None
) -> tuple[list[Run], str | None]:
    """One connection's runs newest first (``byConnection``), or all of the tenant's runs by id.

    ``byConnection`` holds keys only (a run is written three to five times, each rewriting an index copy of
    every attribute, for a list read far less often): a page is a keys Query and one BatchGetItem, and the
    status filter applies to the page as DynamoDB's FilterExpression did (after ``Limit``).
    """
    if connection_id is None:
        page = TABLE.query(tenant_id, limit=limit, cursor=cursor, filters={"status": status})
        return [Run.model_validate(item) for item in page.items], page.next_cursor
    key = connection_key(tenant_id, connection_id)
    params: dict[str, Any] = {
        "TableName": TABLE.name,
        "IndexName": BY_CONNECTION,
        "KeyConditionExpression": "#ck = :ck",
        "ExpressionAttributeNames": {"#ck": "connectionKey"},
        "ExpressionAttributeValues": serialize({":ck": key}),
        "ScanIndexForward": False,
        "Limit": limit,
    }
    start = decode_cursor(cursor, tenant_id)
    if start is not None:
        fields = {"tenantId", "runId", "connectionKey", "createdAt"}
        if set(start) != fields or deserialize(start)["connectionKey"] != key:
            raise ValidationFailed("The cursor is not valid.")  # a cursor from another list
    response = query_from(params, start)
    ids = [str(raw["runId"]["S"]) for raw in response.get("Items", [])]
    found = TABLE.batch_get(tenant_id, ids)
    runs = [Run.model_validate(found[i]) for i in ids if i in found]
    if status is not None:
        runs = [run for run in runs if run.status == status]
    return runs, encode_cursor(response.get("LastEvaluatedKey"), tenant_id)
