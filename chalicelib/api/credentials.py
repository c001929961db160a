"""Credential routes: rotate (202, verified before promotion) and inspect (versions and stages, never values)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import Blueprint

from chalicelib.api.routing import Call, Reply, endpoint

if TYPE_CHECKING:
    from chalicelib.rotation.service import CredentialView, RotateRequest

credentials = Blueprint(__name__)
TAG = "Credentials"


@endpoint(
    credentials,
    "/integrations/credentials/rotate",
    "POST",
    summary="Rotate a stored credential; the new version becomes current only after its verification run",
    tag=TAG,
    scope="integration.credentials.rotate",
    request="chalicelib.rotation.service.RotateRequest",
    response="chalicelib.rotation.service.RotationAccepted",
    status=202,
    errors=(400, 404, 409, 422, 503),
    idempotent=True,
)
def rotate_credential(call: Call) -> Reply:
    from chalicelib.rotation import service as rotation

    body: RotateRequest = call.body
    call.principal.require_tenant(body.tenant_id)
    accepted, started = rotation.start(call.tenant_id, body, call.keyed_id("rot"))
    location = {"Location": f"/integrations/credentials/{accepted.credential_id}"}
    return Reply(accepted, headers=location, replayed=not started)


@endpoint(
    credentials,
    "/integrations/credentials/{credentialId}",
    "GET",
    summary="A credential's versions and stages, the connections using it, and its rotation status",
    tag=TAG,
    scope="integration.credentials.read",
    response="chalicelib.rotation.service.CredentialView",
    errors=(404, 409),
)
def get_credential(call: Call) -> CredentialView:
    from chalicelib.rotation import service as rotation

    return rotation.describe(call.tenant_id, call.path["credentialId"])
