"""Rotation state per credential in the ``credentials`` table (tenant / ``credentialId``); never a value.

One item per credential records the rotation in progress or the last one:
which ``ClientRequestToken`` (the pending version id) it is, its verification
run, why it was asked for, and how it ended. Starting a rotation is a
conditional write, so two requests cannot both start one.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from chalicelib.core import aws
from chalicelib.core.dynamo import Table, serialize
from chalicelib.core.models import WireModel

TABLE = Table("credentials", sort_key="credentialId")
# A rotation that has not finished after this long was abandoned (its invocation died); a new one may start.
STALE_SECONDS = 15 * 60


class RotationStatus(StrEnum):
    ROTATING = "Rotating"
    ROTATED = "Rotated"
    FAILED = "Failed"


class RotationState(WireModel):
    tenant_id: str
    credential_id: str
    path: str
    status: RotationStatus
    token: str
    verification_run_id: str
    connection_id: str
    reason: str
    started_at: str
    started_epoch: int
    supplied_version_id: str | None = None
    completed_at: str | None = None
    last_rotated_at: str | None = None
    failure_reason: str | None = None


def get(tenant_id: str, credential_id: str) -> RotationState | None:
    item = TABLE.get(tenant_id, credential_id)
    return RotationState.model_validate(item) if item else None


def claim(state: RotationState) -> bool:
    """Record a new rotation unless one is in progress (and not abandoned); ``False`` means one is."""
    client = aws.dynamodb()
    try:
        client.put_item(
            TableName=TABLE.name,
            Item=_item(state),
            ConditionExpression="attribute_not_exists(credentialId) OR #status <> :rotating OR startedEpoch < :stale",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=serialize(
                {":rotating": RotationStatus.ROTATING.value, ":stale": state.started_epoch - STALE_SECONDS}
            ),
        )
    except client.exceptions.ConditionalCheckFailedException:
        return False
    return True


def finish_entry(tenant_id: str, credential_id: str, token: str, changes: dict[str, Any]) -> dict[str, Any]:
    """The ``Update`` that ends the rotation with this token, only while it is still Rotating."""
    return TABLE.update_entry(
        tenant_id,
        credential_id,
        changes,
        condition="#tok = :tok AND #st = :rotating",
        condition_values={":tok": token, ":rotating": RotationStatus.ROTATING.value},
        condition_names={"#tok": "token", "#st": "status"},
    )


def delete(tenant_id: str, credential_id: str) -> None:
    TABLE.delete(tenant_id, credential_id)


def _item(state: RotationState) -> dict[str, Any]:
    return serialize(state.model_dump(mode="json", by_alias=True, exclude_none=True))
