"""Credential rotations still Rotating past ``ROTATION_DEADLINE_SECONDS``: cleaned up and marked Failed.

Such a rotation's function died mid-contract (typically after ``createSecret``),
leaving AWSPENDING on the token's version: Secrets Manager and the rotate API
then refuse a new rotation, and ``PUT .../credentials`` answers 409 while the
state says Rotating. The sweeper removes AWSPENDING from that version
(``RemoveFromVersionId``; AWSCURRENT is never moved, so it stays the value
connections use throughout), drops the custom ``PLATFORMSUPPLIED`` label a
supplied value may still carry, and fails the rotation through
``rotation.abandon`` (state and verification run Failed with the reason,
``CredentialRotationFailed`` emitted). A rotation whose version already holds
AWSCURRENT did finish (the function died before recording it): it is recorded
Rotated instead.
"""

from __future__ import annotations

from typing import Any

from chalicelib.core import aws
from chalicelib.core.config import get_settings
from chalicelib.core.logging import logger
from chalicelib.credentials import store, vault, versions
from chalicelib.credentials.store import RotationState, RotationStatus


def table() -> str:
    return store.TABLE.name


def handle(key: dict[str, Any], now: float) -> str | None:
    state = store.get(key["tenantId"], key["credentialId"])
    limit = get_settings().rotation_deadline_seconds
    if state is None or state.status != RotationStatus.ROTATING or state.started_epoch + limit >= now:
        return None
    # Only a stale rotation needs the rotation's bookkeeping (and the connection and run models it carries).
    from chalicelib.rotation import service as rotation

    secret_id = vault.secret_name(state.tenant_id, state.path)
    client = aws.secretsmanager()
    try:
        secret = versions.describe(secret_id)
    except client.exceptions.ResourceNotFoundException:
        rotation.abandon(state, "The rotation did not finish and its secret no longer exists.")
        return "failed"
    stages = secret.stages.get(state.token, [])
    if versions.CURRENT in stages:
        return _record_rotated(state)
    stopped = "after createSecret, before finishSecret" if versions.PENDING in stages else "before createSecret"
    if versions.PENDING in stages:
        versions.remove_stage(secret_id, versions.PENDING, state.token)
    supplied = state.supplied_version_id
    if supplied is not None and versions.SUPPLIED in secret.stages.get(supplied, []):
        versions.remove_stage(secret_id, versions.SUPPLIED, supplied)
    reason = (
        f"The rotation did not finish within {limit / 60:g} minutes (its rotation function stopped {stopped}). "
        "The pending version was discarded and the current value is unchanged; start a new rotation."
    )
    logger.warning(
        "stale credential rotation cleaned up",
        extra={"credentialId": state.credential_id, "tenantId": state.tenant_id, "stopped": stopped},
    )
    rotation.abandon(state, reason)
    return "failed"


def _record_rotated(state: RotationState) -> str | None:
    from chalicelib.rotation import service as rotation

    if not rotation.record_rotated(state):
        return None
    logger.warning(
        "a promoted rotation was never recorded; recorded Rotated", extra={"credentialId": state.credential_id}
    )
    return "rotated"
