"""Rotation state per credential in the ``credentials`` table (tenant / ``credentialId``); never a value.

One item per credential records the rotation in progress or the last one:
which ``ClientRequestToken`` (the pending version id) it is, its verification
run, why it was asked for, and how it ended. Starting a rotation is a
conditional write, so two requests cannot both start one. A Rotating item is in
the sparse ``inflight`` index (``chalicelib.core.inflight``), due
``ROTATION_DEADLINE_SECONDS`` after it started; finishing it (Rotated or Failed)
REMOVEs the index attributes. Past the deadline the sweeper
(``chalicelib.sweeper.rotations``) cleans it up and a new rotation may claim it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from chalicelib.core import aws, inflight
from chalicelib.core.config import get_settings
from chalicelib.core.dynamo import Table, serialize
from chalicelib.core.models import WireModel
from chalicelib.core.timestamps import Timestamp

TABLE = Table("credentials", sort_key="credentialId")


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
    started_at: Timestamp
    started_epoch: int
    supplied_version_id: str | None = None
    completed_at: Timestamp | None = None
    last_rotated_at: Timestamp | None = None
    failure_reason: str | None = None


def get(tenant_id: str, credential_id: str) -> RotationState | None:
    item = TABLE.get(tenant_id, credential_id)
    return RotationState.model_validate(item) if item else None


def claim(state: RotationState) -> bool:
    """Record a new rotation unless one is in progress (and not abandoned); ``False`` means one is.

    A rotation still Rotating ``ROTATION_DEADLINE_SECONDS`` after it started was abandoned (its invocation
    died), so a new one may replace it even before the sweeper has cleaned it up.
    """
    stale = get_settings().rotation_deadline_seconds
    item = _item(state) | serialize(inflight.marker(state.credential_id, stale, now=state.started_epoch))
    client = aws.dynamodb()
    try:
        client.put_item(
            TableName=TABLE.name,
            Item=item,
            ConditionExpression="attribute_not_exists(credentialId) OR #status <> :rotating OR startedEpoch < :stale",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=serialize(
                {":rotating": RotationStatus.ROTATING.value, ":stale": state.started_epoch - int(stale)}
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
        remove=[inflight.SHARD, inflight.DEADLINE],  # a final state leaves the sweeper's index
    )


def delete(tenant_id: str, credential_id: str) -> None:
    TABLE.delete(tenant_id, credential_id)


def _item(state: RotationState) -> dict[str, Any]:
    return serialize(state.model_dump(mode="json", by_alias=True, exclude_none=True))
