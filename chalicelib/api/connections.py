"""Connection routes: establish, get, list."""

from __future__ import annotations

from chalice.app import Blueprint

from chalicelib.api.routing import Call, Reply, endpoint
from chalicelib.connections import service
from chalicelib.connections.models import Connection, ConnectionList, ConnectionListQuery, CreateConnectionRequest
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
    response=Connection,
    status=201,
    errors=(400, 409, 422),
)
def create_connection(call: Call) -> Reply:
    body: CreateConnectionRequest = call.body
    call.principal.require_tenant(body.tenant_id)
    connection = service.create(call.tenant_id, body)
    return Reply(
        connection.model_copy(update={"trace_id": current_trace_id()}),
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
