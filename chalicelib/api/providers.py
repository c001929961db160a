"""Provider routes: register, list, get."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import Blueprint

from chalicelib.api.routing import Call, Reply, endpoint
from chalicelib.core.context import current_trace_id

if TYPE_CHECKING:
    from chalicelib.core.models import ListQuery
    from chalicelib.providers.models import Provider, ProviderList, RegisterProviderRequest

providers = Blueprint(__name__)
TAG = "Providers"


@endpoint(
    providers,
    "/integrations/providers",
    "POST",
    summary="Register a provider",
    tag=TAG,
    scope="integration.providers.write",
    request="chalicelib.providers.models.RegisterProviderRequest",
    response="chalicelib.providers.models.RegisteredProvider",
    status=201,
    errors=(400, 409),
    idempotent=True,
)
def register_provider(call: Call) -> Reply:
    from chalicelib.providers import service
    from chalicelib.providers.models import RegisteredProvider

    body: RegisterProviderRequest = call.body
    call.principal.require_tenant(body.tenant_id)
    provider = service.register(call.tenant_id, body)
    registered = RegisteredProvider(
        provider_id=provider.provider_id,
        api_client_id=provider.api_client_id,
        registered_at=provider.registered_at or "",
        trace_id=current_trace_id(),
    )
    return Reply(registered, headers={"Location": f"/integrations/providers/{provider.provider_id}"})


@endpoint(
    providers,
    "/integrations/providers",
    "GET",
    summary="List providers (built-in and registered)",
    tag=TAG,
    scope="integration.providers.read",
    query="chalicelib.core.models.ListQuery",
    response="chalicelib.providers.models.ProviderList",
    errors=(400,),
)
def list_providers(call: Call) -> ProviderList:
    from chalicelib.providers import service
    from chalicelib.providers.models import ProviderList

    query: ListQuery = call.query
    items, next_cursor = service.list_page(call.tenant_id, query.limit, query.cursor)
    return ProviderList(items=items, next_cursor=next_cursor)


@endpoint(
    providers,
    "/integrations/providers/{providerId}",
    "GET",
    summary="Get a provider",
    tag=TAG,
    scope="integration.providers.read",
    response="chalicelib.providers.models.Provider",
    errors=(404,),
)
def get_provider(call: Call) -> Provider:
    from chalicelib.providers import service

    provider = service.get(call.tenant_id, call.path["providerId"])
    return provider.model_copy(update={"trace_id": current_trace_id()})
