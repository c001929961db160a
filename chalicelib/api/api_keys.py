"""API key routes: issue (the key shown once), list (no secrets), revoke (effective on the next request)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import Blueprint, Response

from chalicelib.api.routing import Call, Reply, endpoint
from chalicelib.core.context import current_trace_id

if TYPE_CHECKING:
    from chalicelib.auth.api_key_models import ApiKeyList
    from chalicelib.core.models import ListQuery

api_keys = Blueprint(__name__)
TAG = "API keys"


@endpoint(
    api_keys,
    "/auth/api-keys",
    "POST",
    summary="Issue an API key with at most the caller's scopes; the key is in this response only",
    tag=TAG,
    scope="auth.api-keys.write",
    request="chalicelib.auth.api_key_models.CreateApiKeyRequest",
    response="chalicelib.auth.api_key_models.CreatedApiKey",
    status=201,
    errors=(400,),
    idempotent=True,
)
def create_api_key(call: Call) -> Reply:
    from chalicelib.auth import api_keys as service

    key, created = service.create(call.principal, call.body, call.keyed_id("key"))
    traced = key.model_copy(update={"trace_id": current_trace_id()})
    return Reply(traced, headers={"Location": f"/auth/api-keys/{key.api_key_id}"}, replayed=not created)


@endpoint(
    api_keys,
    "/auth/api-keys",
    "GET",
    summary="List the tenant's API keys (never the keys themselves)",
    tag=TAG,
    scope="auth.api-keys.read",
    query="chalicelib.core.models.ListQuery",
    response="chalicelib.auth.api_key_models.ApiKeyList",
    errors=(400,),
)
def list_api_keys(call: Call) -> ApiKeyList:
    from chalicelib.auth import api_keys as service
    from chalicelib.auth.api_key_models import ApiKeyList

    query: ListQuery = call.query
    items, next_cursor = service.list_page(call.tenant_id, query.limit, query.cursor)
    return ApiKeyList(items=items, next_cursor=next_cursor)


@endpoint(
    api_keys,
    "/auth/api-keys/{apiKeyId}",
    "DELETE",
    summary="Revoke an API key; it fails from the next request on",
    tag=TAG,
    scope="auth.api-keys.write",
    status=204,
    errors=(404,),
)
def revoke_api_key(call: Call) -> Response:
    from chalicelib.auth import api_keys as service

    service.revoke(call.tenant_id, call.path["apiKeyId"])
    return Response(body="", status_code=204, headers={})
