"""Rotating a credential: the API side (start, describe) and how the rotation function is triggered.

Starting claims the rotation in the ``credentials`` table (a conditional
write: a second request gets 409), records the verification run as Pending,
parks a supplied value under a custom stage, and triggers the rotation
function with a fresh ``ClientRequestToken``; the function
(``chalicelib.rotation.steps``) does the rest exactly as Secrets Manager
drives it. The trigger is the one seam between AWS and the local runtime:

- ``secretsmanager`` (deployed): ``RotateSecret`` makes Secrets Manager invoke
  the function with the four steps. moto cannot stand in here: with a Lambda
  ARN it looks the function up in its own Lambda backend and fails, and without
  one it moves AWSCURRENT to an empty version.
  The local runtimes (``make run``, ``make aws``) make moto play Secrets
  Manager for the app's own rotation function (``infra/local/rotation.py``).
- ``local``: the tests register an invoker and drive the steps themselves.

A stage with neither (no ``ROTATION_FUNCTION_ARN``: ``chalice local --stage
dev``, say) refuses to rotate with 409 before claiming anything: Secrets
Manager without a rotation function would move AWSCURRENT to an empty version.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import Field

from chalicelib.connections import secret
from chalicelib.connections import store as connections
from chalicelib.connections.models import Connection, ConnectionStatus, Credentials, credentials_secret
from chalicelib.core import aws, metrics
from chalicelib.core.config import get_settings
from chalicelib.core.context import current_trace_id
from chalicelib.core.errors import Conflict, FieldError, NotFound, ServiceUnavailable, Unprocessable
from chalicelib.core.ids import new_id
from chalicelib.core.logging import logger
from chalicelib.core.models import RequestModel, WireModel
from chalicelib.core.timestamps import Timestamp, now_text
from chalicelib.credentials import store, vault, versions
from chalicelib.credentials.store import RotationState, RotationStatus
from chalicelib.events import catalog
from chalicelib.events.emit import commit, new_event
from chalicelib.events.models import PlatformEvent
from chalicelib.providers.models import AuthModel
from chalicelib.runs import store as runs
from chalicelib.runs.models import Run, RunError, RunStatus

VERIFY_OPERATION = "VerifyCredential"
# Without a supplied value the platform can only re-issue OAuth2 client credentials (verified by fetching a
# fresh access token); the other modes need the vendor to mint a new value, which none of our adapters can.
SELF_RENEWING = frozenset({AuthModel.OAUTH2_CLIENT_CREDENTIALS})

Invoker = Callable[[str, str], None]
_local_invoker: list[Invoker] = []


def register_local_invoker(invoker: Invoker) -> None:
    """The local runtime (and tests) say how the rotation function is invoked when there is no Secrets Manager."""
    _local_invoker[:] = [invoker]


class RotateRequest(RequestModel):
    tenant_id: str | None = None
    credential_id: Annotated[str, Field(min_length=1, max_length=100)]
    reason: Annotated[str, Field(min_length=1, max_length=200)] = "Manual"
    credentials: Credentials | None = Field(default=None, description="The new value, in the connection's shape.")


class RotationAccepted(WireModel):
    credential_id: str
    status: Literal["Rotating"] = "Rotating"
    new_version_ref: str
    verification_run_id: str
    trace_id: str | None = None


class CredentialVersion(WireModel):
    version_id: str
    stages: list[str]
    created_at: Timestamp | None = None


class RotationView(WireModel):
    status: RotationStatus
    reason: str
    new_version_ref: str
    verification_run_id: str
    started_at: Timestamp
    completed_at: Timestamp | None = None
    failure_reason: str | None = None


class CredentialView(WireModel):
    credential_id: str
    credential_ref: str
    versions: list[CredentialVersion]
    last_rotated_at: Timestamp | None = None
    connection_ids: list[str]
    rotation: RotationView | None = None
    trace_id: str | None = None


def version_ref(path: str, version_id: str) -> str:
    return f"{vault.ref_for(path)}?version={version_id}"


def _users(tenant_id: str, credential_id: str) -> list[Connection]:
    users = connections.using_credential(tenant_id, credential_id)
    if not users:
        raise NotFound(f"Credential '{credential_id}' was not found (no connection uses it).")
    return sorted(users, key=lambda c: (c.status != ConnectionStatus.ACTIVE, c.connection_id))


def verification_run(state: RotationState, provider_id: str) -> Run:
    return Run(
        run_id=state.verification_run_id,
        tenant_id=state.tenant_id,
        connection_id=state.connection_id,
        operation=VERIFY_OPERATION,
        status=RunStatus.PENDING,
        created_at=state.started_at,
        provider_id=provider_id,
        parameters={"credentialId": state.credential_id, "versionId": state.token},
        trace_id=current_trace_id(),
    )


def new_state(
    tenant_id: str, credential_id: str, path: str, verifier: Connection, reason: str, token: str
) -> RotationState:
    previous = store.get(tenant_id, credential_id)
    return RotationState(
        tenant_id=tenant_id,
        credential_id=credential_id,
        path=path,
        status=RotationStatus.ROTATING,
        token=token,
        verification_run_id=new_id("run"),
        connection_id=verifier.connection_id,
        reason=reason,
        started_at=now_text(),
        started_epoch=int(time.time()),
        last_rotated_at=previous.last_rotated_at if previous else None,
    )


def require_rotation_function() -> None:
    """409 where nothing would run the four steps, before anything is claimed or written."""
    settings = get_settings()
    if settings.rotation_invoker == "local" and _local_invoker:
        return
    if settings.rotation_invoker != "local" and settings.rotation_function_arn:
        return
    raise Conflict(
        f"Stage '{settings.stage}' has no credential rotation function (ROTATION_FUNCTION_ARN is not set), "
        "so credentials cannot be rotated here; replace the value with PUT /integrations/credentials/{id} "
        "or run `make run` / `make aws`."
    )


def start(tenant_id: str, request: RotateRequest, rotation_key: str | None = None) -> tuple[RotationAccepted, bool]:
    """The accepted rotation, and whether this call started it.

    ``rotation_key`` (a keyed request's ``Call.keyed_id``) fixes the rotation's token, so a repeat whose first
    answer was never recorded finds the rotation that attempt claimed: it is answered again, and launched again
    while no step has run yet (the first attempt may have died before its trigger). That is safe: each step is
    idempotent per token, and so is ``RotateSecret`` with the same ``ClientRequestToken``.
    """
    users = _users(tenant_id, request.credential_id)  # another tenant's credential is a 404 first
    require_rotation_function()
    verifier = users[0]
    if request.credentials is not None:
        # Only the API starts a rotation: the rotation function and the sweeper do without the connection service.
        from chalicelib.connections import service as connections_service

        connections_service.check_shape(verifier.auth_mode, request.credentials)
    elif verifier.auth_mode not in SELF_RENEWING:
        raise Unprocessable(
            f"A {verifier.auth_mode} credential cannot be renewed by the platform; supply the new value.",
            [FieldError("credentials", "required for this authMode")],
        )
    path = secret.path(verifier)
    secret_id = vault.secret_name(tenant_id, path)
    token = str(uuid.uuid5(uuid.NAMESPACE_URL, rotation_key)) if rotation_key else str(uuid.uuid4())
    resumed = _resumed(tenant_id, request, token, secret_id, verifier) if rotation_key else None
    if resumed is not None:
        return resumed, False
    vault.read_current(tenant_id, path)  # gone, scheduled for deletion or unreadable: 409, nothing claimed
    if versions.describe(secret_id).pending_elsewhere():
        raise Conflict(f"Credential '{request.credential_id}' already has a rotation in progress.")
    state = new_state(tenant_id, request.credential_id, path, verifier, request.reason, token)
    if request.credentials is not None:
        state.supplied_version_id = str(uuid.uuid4())
    if not store.claim(state):
        resumed = _resumed(tenant_id, request, token, secret_id, verifier) if rotation_key else None
        if resumed is not None:  # a concurrent repeat with the same key claimed it first
            return resumed, False
        raise Conflict(f"Credential '{request.credential_id}' already has a rotation in progress.")
    _launch(state, secret_id, verifier, request.credentials, keyed=rotation_key is not None)
    return _accepted(state), True


def _accepted(state: RotationState) -> RotationAccepted:
    return RotationAccepted(
        credential_id=state.credential_id,
        new_version_ref=version_ref(state.path, state.token),
        verification_run_id=state.verification_run_id,
        trace_id=current_trace_id(),
    )


def _resumed(
    tenant_id: str, request: RotateRequest, token: str, secret_id: str, verifier: Connection
) -> RotationAccepted | None:
    """The rotation with this token, launched again if it is still Rotating; ``None`` when there is none."""
    state = store.get(tenant_id, request.credential_id)
    if state is None or state.token != token:
        return None
    if state.status == RotationStatus.ROTATING and not _created(secret_id, token):  # else the steps are under way
        _launch(state, secret_id, verifier, request.credentials, keyed=True)
    return _accepted(state)


def _launch(
    state: RotationState,
    secret_id: str,
    verifier: Connection,
    credentials: Credentials | None,
    *,
    keyed: bool,
) -> None:
    """Park a supplied value, record the verification run and trigger the function (each a no-op when repeated).

    When the trigger fails, a keyed rotation stays Rotating for the repeat with the same key to launch (or the
    sweeper to end); any other is abandoned, since its caller's retry starts a new one.
    """
    supplied = state.supplied_version_id
    if supplied is not None and credentials is not None:
        versions.put(secret_id, supplied, credentials_secret(credentials), versions.SUPPLIED)
    runs.insert(verification_run(state, verifier.provider_id), swept=False)
    try:
        trigger(secret_id, state.token, verifier.auth_mode)
    except Exception as exc:
        logger.exception("triggering rotation failed", extra={"credentialId": state.credential_id})
        if keyed:
            raise ServiceUnavailable(
                "The rotation could not be started; repeat the request with the same Idempotency-Key."
            ) from exc
        abandon(state, "The rotation function could not be started.")
        raise ServiceUnavailable("The rotation could not be started; retry the request.") from exc


def _created(secret_id: str, token: str) -> bool:
    """Whether createSecret made the token's version: the function was triggered and is doing the rest."""
    return token in versions.describe(secret_id).stages


def trigger(secret_id: str, token: str, auth_mode: AuthModel) -> None:
    settings = get_settings()
    if settings.rotation_invoker == "local":
        _local_invoker[0](secret_id, token)
        return
    params: dict[str, Any] = {
        "SecretId": secret_id,
        "ClientRequestToken": token,
        "RotateImmediately": True,
        "RotationLambdaARN": settings.rotation_function_arn,
    }
    if settings.credential_rotation_days > 0 and auth_mode in SELF_RENEWING:
        params["RotationRules"] = {"AutomaticallyAfterDays": settings.credential_rotation_days}
    aws.secretsmanager().rotate_secret(**params)


def rotation_event(state: RotationState, event_type: str, data: dict[str, Any]) -> PlatformEvent:
    """The rotation's outcome event, with an id fixed by the rotation so a repeated step records it once."""
    material = f"{state.tenant_id}/{state.credential_id}/{state.token}/{event_type}"
    return new_event(
        state.tenant_id,
        event_type,
        {"credentialId": state.credential_id, "verificationRunId": state.verification_run_id, "reason": state.reason}
        | data,
        source="platform.credentials",
        event_id="evt-" + hashlib.sha256(material.encode()).hexdigest()[:24],
    )


def abandon(state: RotationState, reason: str, vendor_status: int | None = None) -> None:
    """End a rotation that cannot proceed: state Failed with its event, verification run Failed, nothing promoted."""
    logger.warning("credential rotation failed", extra={"credentialId": state.credential_id, "reason": reason})
    if commit(
        store.finish_entry(
            state.tenant_id,
            state.credential_id,
            state.token,
            {"status": RotationStatus.FAILED.value, "completedAt": now_text(), "failureReason": reason},
        ),
        rotation_event(state, catalog.CREDENTIAL_ROTATION_FAILED, {"failureReason": reason}),
    ):
        metrics.count("CredentialRotationFailed")  # RotationFailedAlarm (docs/observability.md)
    error = RunError(code="CREDENTIAL_VERIFICATION_FAILED", message=reason, status=422, vendor_status=vendor_status)
    changes = {"status": RunStatus.FAILED.value, "completedAt": now_text(), "error": error.model_dump(by_alias=True)}
    for status in (RunStatus.PENDING, RunStatus.RUNNING):
        if runs.transition(state.tenant_id, state.verification_run_id, changes, from_status=status) is not None:
            break


def record_rotated(state: RotationState) -> bool:
    """The rotation's new version holds AWSCURRENT: state Rotated with its event; ``False`` if it had ended."""
    now = now_text()
    return commit(
        store.finish_entry(
            state.tenant_id,
            state.credential_id,
            state.token,
            {"status": RotationStatus.ROTATED.value, "completedAt": now, "lastRotatedAt": now},
        ),
        rotation_event(state, catalog.CREDENTIAL_ROTATED, {"versionId": state.token}),
    )


def describe(tenant_id: str, credential_id: str) -> CredentialView:
    users = connections.using_credential(tenant_id, credential_id)
    state = store.get(tenant_id, credential_id)
    if not users and state is None:
        raise NotFound(f"Credential '{credential_id}' was not found.")
    path = state.path if state is not None else secret.path(users[0])
    vault.check_present(tenant_id, path)  # gone or scheduled for deletion: 409 with the reason
    listed = versions.listed(vault.secret_name(tenant_id, path))
    rotation = None
    if state is not None:
        rotation = RotationView(
            status=state.status,
            reason=state.reason,
            new_version_ref=version_ref(path, state.token),
            verification_run_id=state.verification_run_id,
            started_at=state.started_at,
            completed_at=state.completed_at,
            failure_reason=state.failure_reason,
        )
    return CredentialView(
        credential_id=credential_id,
        credential_ref=vault.ref_for(path),
        versions=[CredentialVersion.model_validate(v) for v in listed if v["stages"]],
        last_rotated_at=state.last_rotated_at if state else None,
        connection_ids=sorted(c.connection_id for c in users),
        rotation=rotation,
        trace_id=current_trace_id(),
    )
