"""The rotation function: Secrets Manager's four-step contract, each step idempotent per ClientRequestToken.

Secrets Manager calls ``handle`` with ``{"SecretId", "ClientRequestToken",
"Step"}`` four times in order, and may repeat any step with the same token:

- ``createSecret``: unless the token's version already holds AWSPENDING, write
  the new value there: the value supplied to the rotate API, or, for OAuth2
  client credentials with none supplied, the current client credentials again
  (their renewal is the fresh access token ``testSecret`` obtains).
- ``setSecret``: nothing to push: vendors issue our credentials, we never set
  them on the vendor side.
- ``testSecret``: the verification run, a real health-check call to the vendor
  with the pending value, recorded as the run whose id the API returned. It
  goes through the connection's vendor protection like every vendor call; a
  call the rate limit or an open breaker holds back fails the rotation.
- ``finishSecret``: AWSCURRENT moves to the token's version (the old one
  becomes AWSPREVIOUS) and AWSPENDING is cleared.

A failed verification ends the rotation here: AWSPENDING is removed (so the
next RotateSecret is not refused as "in progress"), AWSCURRENT is untouched,
the state and the run say why, ``CredentialRotationFailed`` is emitted, and
the step returns normally: raising would
make Secrets Manager retry the same bad value. ``finishSecret`` then finds no
pending version and does nothing.
"""

from __future__ import annotations

from typing import Any

from chalicelib.connections import health
from chalicelib.connections import store as connections
from chalicelib.connections.models import ConnectionStatus
from chalicelib.core.config import get_settings
from chalicelib.core.logging import logger
from chalicelib.core.timestamps import now_text
from chalicelib.credentials import store, vault, versions
from chalicelib.credentials.store import RotationState, RotationStatus
from chalicelib.protection import guard
from chalicelib.rotation import service as rotation
from chalicelib.runs import store as runs
from chalicelib.runs.models import RunStatus

STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")


class RotationContractError(Exception):
    """A step Secrets Manager should not have sent (unknown step, unknown token); it reports the failure."""


def handle(event: dict[str, Any]) -> None:
    step = event.get("Step")
    secret_id = event.get("SecretId")
    token = event.get("ClientRequestToken")
    if step not in STEPS or not isinstance(secret_id, str) or not isinstance(token, str):
        raise RotationContractError(f"not a rotation event: step {step!r}")
    secret = versions.describe(secret_id)
    tenant_id, path = _owner(secret.name)
    credential_id = vault.credential_id(tenant_id, path)
    if _current_holds(secret, token):
        return  # this token's version is already current: every repeated step is done
    state = store.get(tenant_id, credential_id)
    if step == "createSecret" and (state is None or state.token != token):
        state = _scheduled(tenant_id, credential_id, path, token)
    if state is None or state.token != token:
        raise RotationContractError(f"no rotation with this token for {credential_id}")
    logger.info("rotation step", extra={"step": step, "credentialId": credential_id})
    if state.status == RotationStatus.FAILED:
        return  # the failure is recorded; repeating a step must not revive it
    if step == "createSecret":
        _create(secret_id, secret, state)
    elif step == "testSecret":
        _test(secret_id, state)
    elif step == "finishSecret":
        _finish(secret_id, state)


def _current_holds(secret: versions.SecretVersions, token: str) -> bool:
    return versions.CURRENT in secret.stages.get(token, [])


def _owner(name: str) -> tuple[str, str]:
    prefix = get_settings().secret_prefix
    if not name.startswith(prefix) or "/" not in name[len(prefix) :]:
        raise RotationContractError("the secret is not one of this platform's credentials")
    tenant_id, path = name[len(prefix) :].split("/", 1)
    return tenant_id, path


def _scheduled(tenant_id: str, credential_id: str, path: str, token: str) -> RotationState:
    """A rotation Secrets Manager started on its schedule: claim it and record its verification run."""
    users = connections.using_credential(tenant_id, credential_id)
    active = [c for c in users if c.status == ConnectionStatus.ACTIVE] or users
    if not active:
        raise RotationContractError(f"no connection uses {credential_id}; nothing can verify a new value")
    verifier = sorted(active, key=lambda c: c.connection_id)[0]
    state = rotation.new_state(tenant_id, credential_id, path, verifier, "ScheduledRotation", token)
    if not store.claim(state):
        raise RotationContractError(f"another rotation of {credential_id} is in progress")
    runs.insert(rotation.verification_run(state, verifier.provider_id), swept=False)
    return state


def _fail(secret_id: str, state: RotationState, reason: str, vendor_status: int | None = None) -> None:
    if versions.PENDING in versions.describe(secret_id).stages.get(state.token, []):
        versions.remove_stage(secret_id, versions.PENDING, state.token)
    rotation.abandon(state, reason, vendor_status)


def _create(secret_id: str, secret: versions.SecretVersions, state: RotationState) -> None:
    if versions.read(secret_id, version_id=state.token, stage=versions.PENDING) is not None:
        return
    if state.supplied_version_id is not None:
        value = versions.read(secret_id, version_id=state.supplied_version_id, stage=versions.SUPPLIED)
    else:
        value = versions.read(secret_id, stage=versions.CURRENT)
    if value is None:
        _fail(secret_id, state, "The new value is no longer available.")
        return
    versions.put(secret_id, state.token, value, versions.PENDING)
    if state.supplied_version_id is not None and versions.SUPPLIED in secret.stages.get(state.supplied_version_id, []):
        versions.remove_stage(secret_id, versions.SUPPLIED, state.supplied_version_id)


def _test(secret_id: str, state: RotationState) -> None:
    run = runs.get(state.tenant_id, state.verification_run_id)
    if run is not None and run.status in (RunStatus.COMPLETED, RunStatus.FAILED):
        return  # verified already with this token: the same result
    pending = versions.read(secret_id, version_id=state.token, stage=versions.PENDING)
    connection = connections.get(state.tenant_id, state.connection_id)
    if pending is None or connection is None:
        _fail(secret_id, state, "The pending value or the connection to verify it with is gone.")
        return
    runs.transition(
        state.tenant_id,
        state.verification_run_id,
        {"status": RunStatus.RUNNING.value, "startedAt": now_text(), "attempts": 1},
        from_status=RunStatus.PENDING,
    )
    try:
        report, latency = health.verify(connection, pending)
    except guard.Held as held:  # the vendor was not called: nothing verified, nothing promoted
        _fail(secret_id, state, f"The vendor's protection held the verification call back ({held.reason}).")
        return
    if not report.healthy:
        _fail(secret_id, state, f"Verification against the vendor failed: {report.message}", report.vendor_status)
        return
    result = {"verified": True, "vendorStatus": report.vendor_status, "latencyMs": latency, "message": report.message}
    runs.transition(
        state.tenant_id,
        state.verification_run_id,
        {"status": RunStatus.COMPLETED.value, "completedAt": now_text(), "result": result},
        from_status=RunStatus.RUNNING,
    )


def _finish(secret_id: str, state: RotationState) -> None:
    secret = versions.describe(secret_id)
    if versions.PENDING not in secret.stages.get(state.token, []):
        return
    run = runs.get(state.tenant_id, state.verification_run_id)
    if run is None or run.status != RunStatus.COMPLETED:
        raise RotationContractError("finishSecret before a successful testSecret")
    current = secret.holding(versions.CURRENT)
    if current is not None and current != state.token:
        versions.promote(secret_id, state.token, current)
    versions.remove_stage(secret_id, versions.PENDING, state.token)
    rotation.record_rotated(state)
    vault.forget(state.tenant_id, state.path)
