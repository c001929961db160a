"""Changing a connection after it is established: update, new credentials, activate, deactivate, delete.

Every change is one conditional write, so a concurrent change or a repeated
request cannot apply twice, and each emits its platform event. Status changes
take effect for runs at once (the runs service and worker read the item), for
inbound deliveries within the lookup cache's 30 s in other warm containers, and
for the health sweep at its next page (inactive connections leave the sweep
index).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from chalicelib.connections import service, store
from chalicelib.connections.models import Connection, ConnectionStatus, Credentials, SecretOwner, credentials_secret
from chalicelib.core.config import get_settings
from chalicelib.core.context import current_trace_id
from chalicelib.core.errors import Conflict, NotFound
from chalicelib.core.ids import iso_now
from chalicelib.core.models import JsonObject, RequestModel, WireModel
from chalicelib.credentials import store as rotations
from chalicelib.credentials import vault
from chalicelib.events.emit import emit
from chalicelib.inbound import lookup, webhook_secrets

SOURCE = "platform.connections"


class UpdateConnectionRequest(RequestModel):
    """Only the fields given change; ``configuration`` replaces the whole object."""

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
    updated_at: str
    trace_id: str | None = None


class StatusChanged(WireModel):
    connection_id: str
    status: ConnectionStatus
    activated_at: str | None = None
    deactivated_at: str | None = None
    updated_at: str
    trace_id: str | None = None


class ConnectionDeleted(WireModel):
    connection_id: str
    deleted: Literal[True] = True
    credential_id: str
    credential_deletion: Literal["Scheduled", "Retained"]
    credential_deletion_date: str | None = None
    credential_retained_reason: Literal["SharedCredential", "CallerOwned"] | None = Field(
        default=None, description="Why a Retained secret was kept: another connection uses it, or it is the caller's."
    )
    webhook_secret_deletion: Literal["Deleted", "Retained"] | None = None
    trace_id: str | None = None


def _event(connection: Connection, event_type: str, data: dict[str, Any]) -> None:
    emit(connection.tenant_id, event_type, {"connectionId": connection.connection_id, **data}, source=SOURCE)


def update(tenant_id: str, connection_id: str, request: UpdateConnectionRequest) -> Connection:
    changes: dict[str, Any] = {}
    if "display_name" in request.model_fields_set:
        changes["displayName"] = request.display_name
    if "configuration" in request.model_fields_set and request.configuration is not None:
        service.check_configuration(request.configuration)
        changes["configuration"] = request.configuration
    if "project_id" in request.model_fields_set:
        changes["projectId"] = request.project_id
    changes["updatedAt"] = iso_now()
    if store.TABLE.update(tenant_id, connection_id, changes) is None:
        raise NotFound(f"Connection '{connection_id}' was not found.")
    lookup.forget_connection(connection_id)
    connection = service.get(tenant_id, connection_id)
    _event(connection, "ConnectionUpdated", {"changedFields": sorted(k for k in changes if k != "updatedAt")})
    return connection.model_copy(update={"trace_id": current_trace_id()})


def change_credentials(tenant_id: str, connection_id: str, request: CredentialsChange) -> CredentialsChanged:
    """A new AWSCURRENT version of the connection's secret, unverified (rotation verifies first).

    A secret shared through ``credentialRef`` is one credential: every connection on it gets the new value,
    and the response names them.
    """
    connection = service.get(tenant_id, connection_id)
    service.check_shape(connection.auth_mode, request.credentials)
    state = rotations.get(tenant_id, connection.credential_id)
    if state is not None and state.status == rotations.RotationStatus.ROTATING:
        raise Conflict(f"Credential '{connection.credential_id}' is being rotated; change it when that finishes.")
    path = vault.path_from_ref(connection.credential_ref)
    version_id = vault.put_value(
        tenant_id,
        path,
        credentials_secret(request.credentials),
        description=f"{connection.provider_id} credential for {connection_id}",
    )
    vault.forget(tenant_id, path)
    users = sorted(c.connection_id for c in store.using_credential(tenant_id, connection.credential_id))
    _event(
        connection,
        "CredentialUpdated",
        {"credentialId": connection.credential_id, "versionId": version_id, "affectedConnectionIds": users},
    )
    return CredentialsChanged(
        connection_id=connection_id,
        credential_id=connection.credential_id,
        credential_ref=connection.credential_ref,
        version_id=version_id,
        affected_connection_ids=users,
        updated_at=iso_now(),
        trace_id=current_trace_id(),
    )


def set_status(tenant_id: str, connection_id: str, status: ConnectionStatus) -> StatusChanged:
    """Activate or deactivate; asking for the state it is already in is a 409."""
    at = iso_now()
    changed = store.set_status(tenant_id, connection_id, status, at)
    if changed is None:
        current = service.get(tenant_id, connection_id)
        raise Conflict(f"Connection '{connection_id}' is already {current.status}.")
    lookup.forget_connection(connection_id)
    active = status == ConnectionStatus.ACTIVE
    _event(changed, "ConnectionActivated" if active else "ConnectionDeactivated", {"status": status.value, "at": at})
    return StatusChanged(
        connection_id=connection_id,
        status=status,
        activated_at=at if active else None,
        deactivated_at=None if active else at,
        updated_at=at,
        trace_id=current_trace_id(),
    )


def delete(tenant_id: str, connection_id: str) -> ConnectionDeleted:
    """The connection goes. Only secrets the platform wrote are destroyed: its credential secret is scheduled for
    deletion when no other connection uses it, its webhook secret deleted; a secret the caller owns is kept."""
    deleted = store.delete(tenant_id, connection_id)
    if deleted is None:
        raise NotFound(f"Connection '{connection_id}' was not found.")
    lookup.forget_connection(connection_id)
    webhook_deletion: Literal["Deleted", "Retained"] | None = None
    if deleted.webhook_secret_ref is not None:
        webhook_deletion = "Deleted" if deleted.webhook_secret_owner == SecretOwner.PLATFORM else "Retained"
    if webhook_deletion == "Deleted":
        vault.delete(tenant_id, webhook_secrets.own_path(connection_id))  # generated for this connection alone
    deletion_date = None
    shared = store.using_credential(tenant_id, deleted.credential_id)
    retained_reason: Literal["SharedCredential", "CallerOwned"] | None = "SharedCredential" if shared else None
    if not shared:
        rotations.delete(tenant_id, deleted.credential_id)
        if deleted.credential_owner == SecretOwner.PLATFORM:
            path = vault.path_from_ref(deleted.credential_ref)
            deletion_date = vault.schedule_deletion(tenant_id, path, get_settings().secret_recovery_days)
        else:
            retained_reason = "CallerOwned"
    result = ConnectionDeleted(
        connection_id=connection_id,
        credential_id=deleted.credential_id,
        credential_deletion="Retained" if retained_reason else "Scheduled",
        credential_deletion_date=deletion_date,
        credential_retained_reason=retained_reason,
        webhook_secret_deletion=webhook_deletion,
        trace_id=current_trace_id(),
    )
    _event(
        deleted,
        "ConnectionDeleted",
        {"credentialId": deleted.credential_id, "credentialDeletion": result.credential_deletion},
    )
    return result
