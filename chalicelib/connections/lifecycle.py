"""Changing a connection after it is established: update, new credentials, activate, deactivate, delete.

Every change is one conditional write committed in one transaction with its
platform event, so a concurrent change or a repeated request cannot apply
twice, and no change stands without its event. Status changes
take effect for runs at once (the runs service and worker read the item), for
inbound deliveries within the lookup cache's 30 s in other warm containers, and
for the health sweep at its next page (inactive connections leave the sweep
index).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, model_validator

from chalicelib.connections import secret, service, store
from chalicelib.connections.models import Connection, ConnectionStatus, Credentials, SecretOwner, credentials_secret
from chalicelib.core.config import get_settings
from chalicelib.core.context import current_trace_id
from chalicelib.core.errors import Conflict, NotFound
from chalicelib.core.models import JsonObject, RequestModel, WireModel, some_field_none_null
from chalicelib.core.timestamps import Timestamp, now_text
from chalicelib.credentials import store as rotations
from chalicelib.credentials import vault
from chalicelib.events import catalog
from chalicelib.events.emit import commit, emit, new_event
from chalicelib.events.models import PlatformEvent
from chalicelib.inbound import lookup, webhook_secrets
from chalicelib.providers import service as providers
from chalicelib.schedules import service as schedules

SOURCE = "platform.connections"


class UpdateConnectionRequest(RequestModel):
    """Only the fields given change; ``configuration`` replaces the whole object."""

    model_config = ConfigDict(json_schema_extra=some_field_none_null)

    display_name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    configuration: Annotated[JsonObject, Field(max_length=50)] | None = None
    project_id: Annotated[str, Field(min_length=1, max_length=200)] | None = None

    @model_validator(mode="after")
    def _something(self) -> UpdateConnectionRequest:
        if not self.model_fields_set:
            raise ValueError("give at least one of displayName, configuration, projectId")
        for name in self.model_fields_set:
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class CredentialsChange(RequestModel):
    credentials: Credentials


class CredentialsChanged(WireModel):
    """Where the new value went; the value itself is never echoed."""

    connection_id: str
    credential_id: str
    credential_ref: str
    version_id: str
    affected_connection_ids: list[str]
    updated_at: Timestamp
    trace_id: str | None = None


class StatusChanged(WireModel):
    connection_id: str
    status: ConnectionStatus
    activated_at: Timestamp | None = None
    deactivated_at: Timestamp | None = None
    updated_at: Timestamp
    trace_id: str | None = None


CredentialDeletion = Literal["Scheduled", "Retained", "NoSecret"]
RetainedReason = Literal["SharedCredential", "CallerOwned"]


class ConnectionDeleted(WireModel):
    connection_id: str
    deleted: Literal[True] = True
    credential_id: str | None = Field(default=None, description="Null for authMode AwsIam: nothing was stored.")
    credential_deletion: CredentialDeletion
    credential_deletion_date: Timestamp | None = None
    credential_retained_reason: RetainedReason | None = Field(
        default=None, description="Why a Retained secret was kept: another connection uses it, or it is the caller's."
    )
    webhook_secret_deletion: Literal["Deleted", "Retained"] | None = None
    trace_id: str | None = None


def connection_event(tenant_id: str, connection_id: str, event_type: str, data: dict[str, Any]) -> PlatformEvent:
    return new_event(tenant_id, event_type, {"connectionId": connection_id, **data}, source=SOURCE)


def update(tenant_id: str, connection_id: str, request: UpdateConnectionRequest) -> Connection:
    changes: dict[str, Any] = {}
    if "display_name" in request.model_fields_set:
        changes["displayName"] = request.display_name
    if "configuration" in request.model_fields_set and request.configuration is not None:
        current = service.get(tenant_id, connection_id)
        service.check_configuration(providers.get(tenant_id, current.provider_id), request.configuration)
        changes["configuration"] = request.configuration
    if "project_id" in request.model_fields_set:
        changes["projectId"] = request.project_id
    changes["updatedAt"] = now_text()
    changed = sorted(k for k in changes if k != "updatedAt")
    event = connection_event(tenant_id, connection_id, catalog.CONNECTION_UPDATED, {"changedFields": changed})
    if not commit(store.TABLE.update_entry(tenant_id, connection_id, changes), event):
        raise NotFound(f"Connection '{connection_id}' was not found.")
    lookup.forget_connection(connection_id)
    connection = service.get(tenant_id, connection_id)
    return connection.model_copy(update={"trace_id": current_trace_id()})


def change_credentials(tenant_id: str, connection_id: str, request: CredentialsChange) -> CredentialsChanged:
    """A new AWSCURRENT version of the connection's secret, unverified (rotation verifies first).

    A secret shared through ``credentialRef`` is one credential: every connection on it gets the new value,
    and the response names them.
    """
    connection = service.get(tenant_id, connection_id)
    path = secret.path(connection)  # 409 for AwsIam: nothing stored
    credential_id = vault.credential_id(tenant_id, path)
    service.check_shape(connection.auth_mode, request.credentials)
    state = rotations.get(tenant_id, credential_id)
    if state is not None and state.status == rotations.RotationStatus.ROTATING:
        raise Conflict(f"Credential '{credential_id}' is being rotated; change it when that finishes.")
    version_id = vault.put_value(
        tenant_id,
        path,
        credentials_secret(request.credentials),
        description=f"{connection.provider_id} credential for {connection_id}",
    )
    vault.forget(tenant_id, path)
    users = sorted(c.connection_id for c in store.using_credential(tenant_id, credential_id))
    # The state is in Secrets Manager, outside any DynamoDB transaction: if this record fails the caller
    # gets a 5xx and its retry writes the value again and records the event then (no 409 stands in the way).
    emit(
        tenant_id,
        catalog.CONNECTION_CREDENTIALS_UPDATED,
        {
            "connectionId": connection_id,
            "credentialId": credential_id,
            "versionId": version_id,
            "affectedConnectionIds": users,
        },
        source=SOURCE,
    )
    return CredentialsChanged(
        connection_id=connection_id,
        credential_id=credential_id,
        credential_ref=vault.ref_for(path),
        version_id=version_id,
        affected_connection_ids=users,
        updated_at=now_text(),
        trace_id=current_trace_id(),
    )


def set_status(tenant_id: str, connection_id: str, status: ConnectionStatus) -> StatusChanged:
    """Activate or deactivate; asking for the state it is already in is a 409."""
    at = now_text()
    active = status == ConnectionStatus.ACTIVE
    event_type = catalog.CONNECTION_ACTIVATED if active else catalog.CONNECTION_DEACTIVATED
    event = connection_event(tenant_id, connection_id, event_type, {"status": status.value, "at": at})
    if not commit(store.set_status_entry(tenant_id, connection_id, status, at), event):
        current = service.get(tenant_id, connection_id)
        raise Conflict(f"Connection '{connection_id}' is already {current.status}.")
    lookup.forget_connection(connection_id)
    if active:
        schedules.connection_activated(tenant_id, connection_id)
    else:
        schedules.connection_deactivated(tenant_id, connection_id)
    return StatusChanged(
        connection_id=connection_id,
        status=status,
        activated_at=at if active else None,
        deactivated_at=None if active else at,
        updated_at=at,
        trace_id=current_trace_id(),
    )


def _credential_fate(tenant_id: str, deleted: Connection) -> tuple[CredentialDeletion, RetainedReason | None]:
    """What deleting the connection does to its secret: there is none (``AwsIam``), it is kept (another connection
    uses it, or it is the caller's), or it is scheduled for deletion."""
    if deleted.credential_id is None:
        return "NoSecret", None
    users = store.using_credential(tenant_id, deleted.credential_id)
    if any(c.connection_id != deleted.connection_id for c in users):
        return "Retained", "SharedCredential"
    if deleted.credential_owner != SecretOwner.PLATFORM:
        return "Retained", "CallerOwned"
    return "Scheduled", None


def delete(tenant_id: str, connection_id: str) -> ConnectionDeleted:
    """The connection goes with its event. Only secrets the platform wrote are then destroyed: its credential
    secret is scheduled for deletion when no other connection uses it, its webhook secret deleted; a secret the
    caller owns is kept. An ``AwsIam`` connection has no credential secret: nothing is read or deleted for it."""
    deleted = service.get(tenant_id, connection_id)
    deletion, retained_reason = _credential_fate(tenant_id, deleted)
    event = connection_event(
        tenant_id,
        connection_id,
        catalog.CONNECTION_DELETED,
        {"credentialId": deleted.credential_id, "credentialDeletion": deletion},
    )
    if not commit(store.delete_entry(tenant_id, connection_id), event):
        raise NotFound(f"Connection '{connection_id}' was not found.")
    lookup.forget_connection(connection_id)
    schedules.connection_deleted(tenant_id, connection_id)
    webhook_deletion: Literal["Deleted", "Retained"] | None = None
    if deleted.webhook_secret_ref is not None:
        webhook_deletion = "Deleted" if deleted.webhook_secret_owner == SecretOwner.PLATFORM else "Retained"
    if webhook_deletion == "Deleted":
        vault.delete(tenant_id, webhook_secrets.own_path(connection_id))  # generated for this connection alone
    deletion_date = None
    if deleted.credential_id is not None and retained_reason != "SharedCredential":
        rotations.delete(tenant_id, deleted.credential_id)
    if deletion == "Scheduled" and deleted.credential_ref is not None:
        path = vault.path_from_ref(deleted.credential_ref)
        deletion_date = vault.schedule_deletion(tenant_id, path, get_settings().secret_recovery_days)
    return ConnectionDeleted(
        connection_id=connection_id,
        credential_id=deleted.credential_id,
        credential_deletion=deletion,
        credential_deletion_date=deletion_date,
        credential_retained_reason=retained_reason,
        webhook_secret_deletion=webhook_deletion,
        trace_id=current_trace_id(),
    )
