"""Connection routes: establish, get, list."""

from __future__ import annotations

from chalice.app import Blueprint

from chalicelib.api.routing import Call, Reply, endpoint
from chalicelib.connections import service
from chalicelib.connections.models import (
    Connection,
    ConnectionList,
    ConnectionListQuery,
    CreateConnectionRequest,
    EstablishedConnection,
    WebhookSecretChange,
    WebhookSecretChanged,
)
from chalicelib.core.context import current_trace_id

connections = Blueprint(__name__)
TAG = "Connections"


@endpoint(
    connections,
    "/integrations/connections",
    "POST",
    summary="Establish a connection",
    tag=TAG,
    scope="integration.connections.write",
    request=CreateConnectionRequest,
    response=EstablishedConnection,
    status=201,
    errors=(400, 409, 422),
)
def create_connection(call: Call) -> Reply:
    body: CreateConnectionRequest = call.body
    call.principal.require_tenant(body.tenant_id)
    connection = service.create(call.tenant_id, body)
    established = EstablishedConnection(
        connection_id=connection.connection_id,
        status=connection.status,
        provider_id=connection.provider_id,
        health=connection.health,
        established_at=connection.established_at,
        credential_ref=connection.credential_ref,
        credential_id=connection.credential_id,
        webhook_url=connection.webhook_url,
        webhook_secret_ref=connection.webhook_secret_ref,
        webhook_secret=(
            connection.generated_webhook_secret.get_secret_value() if connection.generated_webhook_secret else None
        ),
        trace_id=current_trace_id(),
    )
    return Reply(
        established,
        headers={"Location": f"/integrations/connections/{connection.connection_id}"},
    )


@endpoint(
    connections,
    "/integrations/connections",
    "GET",
    summary="List connections",
    tag=TAG,
    scope="integration.connections.read",
    query=ConnectionListQuery,
    response=ConnectionList,
    errors=(400,),
)
def list_connections(call: Call) -> ConnectionList:
    items, next_cursor = service.list_page(call.tenant_id, call.query)
    return ConnectionList(items=items, next_cursor=next_cursor)


@endpoint(
    connections,
    "/integrations/connections/{connectionId}",
    "GET",
    summary="Get a connection and its health",
    tag=TAG,
    scope="integration.connections.read",
    response=Connection,
    errors=(404,),
)
def get_connection(call: Call) -> Connection:
    connection = service.get(call.tenant_id, call.path["connectionId"])
    return connection.model_copy(update={"trace_id": current_trace_id()})


@endpoint(
    connections,
    "/integrations/connections/{connectionId}/webhook-secret",
    "PUT",
    summary="Change the inbound webhook secret; the old one verifies until overlapSeconds pass",
    tag=TAG,
    scope="integration.connections.write",
    request=WebhookSecretChange,
    response=WebhookSecretChanged,
    errors=(400, 404, 422),
)
def change_webhook_secret(call: Call) -> WebhookSecretChanged:
    return service.change_webhook_secret(call.tenant_id, call.path["connectionId"], call.body)
