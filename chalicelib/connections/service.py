"""Establishing and reading connections.

Inline credentials are validated against the auth mode's shape, written to
Secrets Manager under the tenant, and replaced by a reference before anything
touches DynamoDB.
"""

from __future__ import annotations

from chalicelib.connections import store
from chalicelib.connections.models import (
    CREDENTIAL_SHAPES,
    Connection,
    ConnectionListQuery,
    ConnectionStatus,
    CreateConnectionRequest,
    Health,
    credentials_secret,
)
from chalicelib.core.errors import FieldError, NotFound, Unprocessable, ValidationFailed
from chalicelib.core.ids import iso_now, new_id
from chalicelib.core.urls import check_url
from chalicelib.credentials import vault
from chalicelib.providers import service as providers


def _check_configuration(configuration: dict[str, object]) -> None:
    base_url = configuration.get("baseUrl")
    if base_url is None:
        return
    if not isinstance(base_url, str):
        raise ValidationFailed(
            "configuration.baseUrl must be a string.", [FieldError("configuration.baseUrl", "not a string")]
        )
    check_url(base_url, "configuration.baseUrl", resolve_host=False)


def create(tenant_id: str, request: CreateConnectionRequest) -> Connection:
    provider = providers.find(tenant_id, request.provider_id)
    if provider is None:
        raise Unprocessable(
            f"Provider '{request.provider_id}' does not exist; register it or use a built-in provider.",
            [FieldError("providerId", "unknown provider")],
        )
    auth_mode = request.auth_mode or provider.auth_model
    _check_configuration(request.configuration)
    connection_id = new_id("conn")
    if request.credentials is not None:
        shape = CREDENTIAL_SHAPES[auth_mode]
        if not isinstance(request.credentials, shape):
            raise ValidationFailed(
                f"credentials do not fit authMode '{auth_mode}'.",
                [FieldError("credentials", f"expected the {shape.__name__} shape for {auth_mode}")],
            )
        path = f"connections/{connection_id}"
        vault.store_new(
            tenant_id,
            path,
            credentials_secret(request.credentials),
            description=f"{provider.provider_id} credential for {connection_id}",
        )
    else:
        path = vault.path_from_ref(request.credential_ref or "")
        if not vault.exists(tenant_id, path):
            raise Unprocessable(
                f"No secret exists at {request.credential_ref}.",
                [FieldError("credentialRef", "secret not found")],
            )
    connection = Connection(
        connection_id=connection_id,
        tenant_id=tenant_id,
        project_id=request.project_id,
        provider_id=provider.provider_id,
        display_name=request.display_name,
        auth_mode=auth_mode,
        status=ConnectionStatus.ACTIVE,
        health=Health.UNKNOWN,
        established_at=iso_now(),
        credential_ref=vault.ref_for(path),
        credential_id=vault.credential_id(tenant_id, path),
        configuration=request.configuration,
    )
    store.insert(connection)
    return connection


def get(tenant_id: str, connection_id: str) -> Connection:
    connection = store.get(tenant_id, connection_id)
    if connection is None:
        raise NotFound(f"Connection '{connection_id}' was not found.")
    return connection


def list_page(tenant_id: str, query: ConnectionListQuery) -> tuple[list[Connection], str | None]:
    filters = {"status": query.status, "providerId": query.provider_id, "projectId": query.project_id}
    return store.list_page(tenant_id, query.limit, query.cursor, filters)
