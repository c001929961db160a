"""Registering and finding providers for a tenant."""

from __future__ import annotations

from chalicelib.core.errors import DuplicateResource, NotFound, ValidationFailed
from chalicelib.core.timestamps import now_text
from chalicelib.core.urls import check_url
from chalicelib.providers import schema, store
from chalicelib.providers.catalog import BUILTIN_PROVIDERS
from chalicelib.providers.models import Provider, RegisterProviderRequest

BUILTIN_CURSOR = "builtin."


def provider_id_for(key: str) -> str:
    return f"prov-{key}"


def register(tenant_id: str, request: RegisterProviderRequest) -> Provider:
    provider_id = provider_id_for(request.key)
    if provider_id in BUILTIN_PROVIDERS:
        raise DuplicateResource(f"'{provider_id}' is a built-in provider; choose another key.")
    base_url = check_url(str(request.base_url).rstrip("/"), "baseUrl", resolve_host=False)
    if request.webhook_signature and request.webhook_signature.jwks_url:
        check_url(str(request.webhook_signature.jwks_url), "webhookSignature.jwksUrl", resolve_host=False)
    if request.configuration_schema is not None:
        schema.check_schema(request.configuration_schema, "configurationSchema")
    provider = Provider(
        provider_id=provider_id,
        key=request.key,
        display_name=request.display_name,
        category=request.category,
        auth_model=request.auth_model,
        api_client=request.api_client,
        api_client_id=f"client-{request.key}-v1",
        capabilities=request.capabilities,
        base_url=base_url,
        webhook_signature=request.webhook_signature or Provider.model_fields["webhook_signature"].default,
        built_in=False,
        configuration_schema=request.configuration_schema,
        registered_at=now_text(),
    )
    if not store.insert(tenant_id, provider):
        raise DuplicateResource(f"A provider with key '{request.key}' is already registered.")
    return provider


def find(tenant_id: str, provider_id: str) -> Provider | None:
    builtin = BUILTIN_PROVIDERS.get(provider_id)
    if builtin is not None:
        return builtin
    return store.get(tenant_id, provider_id)


def get(tenant_id: str, provider_id: str) -> Provider:
    provider = find(tenant_id, provider_id)
    if provider is None:
        raise NotFound(f"Provider '{provider_id}' was not found.")
    return provider


def list_page(tenant_id: str, limit: int, cursor: str | None) -> tuple[list[Provider], str | None]:
    """Built-ins first, then the tenant's own, ``limit`` at a time across both.

    A cursor inside the built-ins is ``builtin.<offset>``; past them it is the tenant table's cursor.
    """
    builtins = list(BUILTIN_PROVIDERS.values())
    if cursor is not None and not cursor.startswith(BUILTIN_CURSOR):
        return store.list_page(tenant_id, limit, cursor)
    offset = _builtin_offset(cursor, len(builtins))
    served = builtins[offset : offset + limit]
    if len(served) < limit:
        own, next_cursor = store.list_page(tenant_id, limit - len(served), None)
        return [*served, *own], next_cursor
    end = offset + len(served)
    if end < len(builtins) or store.list_page(tenant_id, 1, None)[0]:
        return served, f"{BUILTIN_CURSOR}{end}"  # more built-ins, or the tenant's own start next
    return served, None


def _builtin_offset(cursor: str | None, total: int) -> int:
    if cursor is None:
        return 0
    text = cursor[len(BUILTIN_CURSOR) :]
    if not text.isdigit() or int(text) > total:
        raise ValidationFailed("The cursor is not valid.")
    return int(text)
