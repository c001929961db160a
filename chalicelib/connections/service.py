"""Establishing and reading connections.

Inline credentials are validated against the auth mode's shape, written to
Secrets Manager under the tenant, and replaced by a reference before anything
touches DynamoDB. An ``AwsIam`` connection (SES, SNS under the platform's own
role) has neither: no secret, no reference.
"""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from chalicelib.connections import secret, store
from chalicelib.connections.models import (
    CREDENTIAL_SHAPES,
    Connection,
    ConnectionListQuery,
    ConnectionStatus,
    CreateConnectionRequest,
    Credentials,
    Health,
    SecretOwner,
    WebhookSecretChange,
    WebhookSecretChanged,
    credentials_secret,
    platform_credential_path,
)
from chalicelib.core.config import get_settings
from chalicelib.core.context import current_trace_id
from chalicelib.core.errors import (
    CredentialUnavailable,
    FieldError,
    NotFound,
    ServiceUnavailable,
    Unprocessable,
    ValidationFailed,
)
from chalicelib.core.ids import new_id
from chalicelib.core.timestamps import from_epoch, now_text
from chalicelib.core.urls import check_url
from chalicelib.credentials import vault
from chalicelib.events import catalog
from chalicelib.events.emit import commit, new_event
from chalicelib.inbound import lookup, webhook_secrets
from chalicelib.providers import configuration as provider_configuration
from chalicelib.providers import service as providers
from chalicelib.providers.catalog import BUILTIN_PROVIDERS
from chalicelib.providers.models import AuthModel, Provider, stores_credential


def check_configuration(provider: Provider, configuration: dict[str, Any]) -> None:
    """The provider's schema (``chalicelib.providers.configuration``), then a usable ``baseUrl``."""
    provider_configuration.validate(provider, configuration)
    base_url = configuration.get("baseUrl")
    if base_url is None:
        return
    if not isinstance(base_url, str):
        raise ValidationFailed(
            "configuration.baseUrl must be a string.", [FieldError("configuration.baseUrl", "not a string")]
        )
    check_url(base_url, "configuration.baseUrl", resolve_host=False)


def check_shape(auth_mode: AuthModel, credentials: Credentials, field: str = "credentials") -> None:
    shape = CREDENTIAL_SHAPES[auth_mode]
    if not isinstance(credentials, shape):
        raise ValidationFailed(
            f"{field} do not fit authMode '{auth_mode}'.",
            [FieldError(field, f"expected the {shape.__name__} shape for {auth_mode}")],
        )


def create(
    tenant_id: str, request: CreateConnectionRequest, connection_id: str | None = None
) -> tuple[Connection, bool]:
    """The connection, and whether this call created it.

    ``connection_id`` is a keyed request's (``Call.keyed_id``): when that connection exists the first attempt
    made it and it is returned as it is (its generated webhook secret is not shown again). Secrets are written
    at paths derived from the id, so a repeat after a first attempt that died between the secrets and the
    item writes over them instead of failing, and the connection and its event commit once.
    """
    if connection_id is not None:
        existing = store.get(tenant_id, connection_id)
        if existing is not None:
            return existing.model_copy(update={"webhook_url": _webhook_url(existing)}), False
    keyed = connection_id is not None
    provider = providers.find(tenant_id, request.provider_id)
    if provider is None:
        raise Unprocessable(
            f"Provider '{request.provider_id}' does not exist; register it or use a built-in provider.",
            [FieldError("providerId", "unknown provider")],
        )
    auth_mode = _auth_mode(provider, request)
    check_configuration(provider, request.configuration)
    connection_id = connection_id or new_id("conn")
    path: str | None = None
    owner: SecretOwner | None = None
    if request.credentials is not None:
        check_shape(auth_mode, request.credentials)
        path = platform_credential_path(connection_id)
        vault.store_new(
            tenant_id,
            path,
            credentials_secret(request.credentials),
            description=f"{provider.provider_id} credential for {connection_id}",
            replace=keyed,
        )
        owner = SecretOwner.PLATFORM
    elif request.credential_ref is not None:
        path = vault.path_from_ref(request.credential_ref)
        owner = _referenced_owner(tenant_id, auth_mode, path)
    connection = Connection(
        connection_id=connection_id,
        tenant_id=tenant_id,
        project_id=request.project_id,
        provider_id=provider.provider_id,
        display_name=request.display_name,
        auth_mode=auth_mode,
        status=ConnectionStatus.ACTIVE,
        health=Health.UNKNOWN,
        established_at=now_text(),
        credential_ref=vault.ref_for(path) if path else None,
        credential_id=vault.credential_id(tenant_id, path) if path else None,
        credential_owner=owner,
        configuration=request.configuration,
    )
    webhook_ref, generated = _webhook_secret(tenant_id, connection_id, provider, request, replace=keyed)
    connection.webhook_secret_ref = webhook_ref
    if webhook_ref is not None:
        connection.webhook_secret_owner = SecretOwner.CALLER if request.webhook_secret_ref else SecretOwner.PLATFORM
    created = new_event(
        tenant_id,
        catalog.CONNECTION_CREATED,
        {
            "connectionId": connection_id,
            "providerId": provider.provider_id,
            "displayName": connection.display_name,
            "authMode": auth_mode,
            "status": connection.status.value,
            "projectId": connection.project_id,
        },
        source="platform.connections",
    )
    if not commit(store.insert_entry(connection), created):
        existing = store.get(tenant_id, connection_id) if keyed else None
        if existing is None:
            raise ServiceUnavailable("The connection could not be recorded; retry the request.")
        return existing.model_copy(update={"webhook_url": _webhook_url(existing)}), False  # a concurrent repeat
    return connection.model_copy(
        update={
            "webhook_url": _webhook_url(connection),
            "generated_webhook_secret": SecretStr(generated) if generated else None,
        }
    ), True


def _auth_mode(provider: Provider, request: CreateConnectionRequest) -> AuthModel:
    """The connection's mode, and a credential source exactly when that mode stores one (400 otherwise).

    ``AwsIam`` belongs to the providers built on it and to no other: a credential sent for it would be stored
    and never read (the caller would believe it is used), and any other provider needs one to authenticate.
    """
    mode = request.auth_mode or provider.auth_model
    if stores_credential(mode) != stores_credential(provider.auth_model):
        raise ValidationFailed(
            f"Provider '{provider.provider_id}' takes authMode '{provider.auth_model}', not '{mode}'.",
            [FieldError("authMode", f"{AuthModel.AWS_IAM} is only for providers on the platform's IAM role")],
        )
    if not stores_credential(mode):
        for name, value in (("credentials", request.credentials), ("credentialRef", request.credential_ref)):
            if value is not None:
                raise ValidationFailed(
                    f"Provider '{provider.provider_id}' calls AWS under the platform's IAM role; "
                    f"it reads no credential, so omit {name}.",
                    [FieldError(name, f"not used with authMode {AuthModel.AWS_IAM}")],
                )
    elif request.credentials is None and request.credential_ref is None:
        raise ValidationFailed(
            f"Provider '{provider.provider_id}' needs a credential: give credentials or credentialRef.",
            [FieldError("credentials", f"required for authMode {mode} (or give credentialRef)")],
        )
    return mode


def _referenced_owner(tenant_id: str, auth_mode: AuthModel, path: str) -> SecretOwner:
    """A ``credentialRef`` must be usable now (not deleted or scheduled for deletion, JSON in the auth mode's
    shape): otherwise 422 on the field, before anything is stored. The secret stays the caller's unless it is
    the one the platform wrote for another connection's inline credentials (one GetItem, no partition Query):
    the new connection then shares that secret, and its fate, with that one."""
    ref = vault.ref_for(path)
    try:
        secret.check_shape(auth_mode, ref, vault.read_current(tenant_id, path))
    except CredentialUnavailable as exc:
        raise Unprocessable(exc.message, [FieldError("credentialRef", "secret not usable")]) from exc
    _, _, writer_id = path.partition("/")
    writer = store.get(tenant_id, writer_id) if path == platform_credential_path(writer_id) else None
    platform = writer is not None and writer.credential_ref == ref and writer.credential_owner == SecretOwner.PLATFORM
    return SecretOwner.PLATFORM if platform else SecretOwner.CALLER


def _needs_shared_secret(provider: Provider) -> bool:
    """SNS messages (SES notifications) are signed by AWS's certificate, JWS RS256/ES256 by the vendor's keys."""
    signature = provider.webhook_signature
    if signature.scheme in {"none", "aws-sns"}:
        return False
    return not (signature.scheme == "jws" and signature.algorithm in {"RS256", "ES256"})


def _webhook_secret(
    tenant_id: str, connection_id: str, provider: Provider, request: CreateConnectionRequest, *, replace: bool
) -> tuple[str | None, str | None]:
    """The inbound secret's reference, and the secret itself when it was generated here."""
    if not _needs_shared_secret(provider):
        if request.webhook_secret is not None or request.webhook_secret_ref is not None:
            raise Unprocessable(
                f"Provider '{provider.provider_id}' does not sign webhooks with a shared secret.",
                [FieldError("webhookSecret", "not used by this provider")],
            )
        return None, None
    scheme = provider.webhook_signature.scheme
    if request.webhook_secret_ref is not None:
        webhook_secrets.check_ref(tenant_id, request.webhook_secret_ref)
        return request.webhook_secret_ref, None
    generated = None
    if request.webhook_secret is not None:
        value = request.webhook_secret.get_secret_value()
        webhook_secrets.check_value(scheme, value)
    else:
        value = generated = webhook_secrets.generate(scheme)
    return webhook_secrets.store_initial(tenant_id, connection_id, value, replace=replace), generated


def _webhook_url(connection: Connection) -> str | None:
    """Where the vendor is pointed: the ingest front (the HTTP API when deployed); relative when it is unknown.

    A connection with an inbound secret receives webhooks; so does one of a built-in provider whose
    deliveries are signed without a shared secret (SES through SNS), known from the catalogue, not a read.
    """
    builtin = BUILTIN_PROVIDERS.get(connection.provider_id)
    receives = builtin is not None and builtin.webhook_signature.scheme != "none"
    if connection.webhook_secret_ref is None and not receives:
        return None
    return f"{get_settings().ingest_base_url}/webhooks/deliveries/{connection.connection_id}"


def get(tenant_id: str, connection_id: str) -> Connection:
    connection = store.get(tenant_id, connection_id)
    if connection is None:
        raise NotFound(f"Connection '{connection_id}' was not found.")
    return connection.model_copy(update={"webhook_url": _webhook_url(connection)})


def list_page(tenant_id: str, query: ConnectionListQuery) -> tuple[list[Connection], str | None]:
    filters = {"status": query.status, "providerId": query.provider_id, "projectId": query.project_id}
    items, cursor = store.list_page(tenant_id, query.limit, query.cursor, filters)
    return [c.model_copy(update={"webhook_url": _webhook_url(c)}) for c in items], cursor


def change_webhook_secret(tenant_id: str, connection_id: str, request: WebhookSecretChange) -> WebhookSecretChanged:
    """New secret current at once; the old one keeps verifying until the overlap ends."""
    connection = get(tenant_id, connection_id)
    provider = providers.get(tenant_id, connection.provider_id)
    if not _needs_shared_secret(provider):
        raise Unprocessable(f"Provider '{provider.provider_id}' does not sign webhooks with a shared secret.")
    scheme = provider.webhook_signature.scheme
    generated = None
    if request.webhook_secret is not None:
        value = request.webhook_secret.get_secret_value()
        webhook_secrets.check_value(scheme, value)
    else:
        value = generated = webhook_secrets.generate(scheme)
    expires = webhook_secrets.change(
        tenant_id, connection_id, connection.webhook_secret_ref, value, request.overlap_seconds
    )
    ref = vault.ref_for(webhook_secrets.own_path(connection_id))
    if connection.webhook_secret_ref != ref or connection.webhook_secret_owner != SecretOwner.PLATFORM:
        changes = {"webhookSecretRef": ref, "webhookSecretOwner": SecretOwner.PLATFORM.value}
        store.TABLE.update(tenant_id, connection_id, changes)
    lookup.forget_connection(connection_id)
    return WebhookSecretChanged(
        connection_id=connection_id,
        webhook_secret_ref=ref,
        webhook_secret=generated,
        previous_secret_expires_at=from_epoch(expires) if expires else None,
        trace_id=current_trace_id(),
    )
