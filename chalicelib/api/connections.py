"""Connection routes: establish, get, list, change, activate/deactivate, test, health, delete."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import Blueprint

from chalicelib.api.routing import Call, Reply, endpoint
from chalicelib.core.context import current_trace_id

if TYPE_CHECKING:
    from chalicelib.connections.health import ConnectionHealth, ConnectionTest
    from chalicelib.connections.lifecycle import ConnectionDeleted, CredentialsChanged, StatusChanged
    from chalicelib.connections.models import Connection, ConnectionList, CreateConnectionRequest, WebhookSecretChanged

connections = Blueprint(__name__)
TAG = "Connections"


@endpoint(
    connections,
    "/integrations/connections",
    "POST",
    summary="Establish a connection",
    tag=TAG,
    scope="integration.connections.write",
    request="chalicelib.connections.models.CreateConnectionRequest",
    response="chalicelib.connections.models.EstablishedConnection",
    status=201,
    errors=(400, 409, 422),
    idempotent=True,
)
def create_connection(call: Call) -> Reply:
    from chalicelib.connections import service
    from chalicelib.connections.models import EstablishedConnection

    body: CreateConnectionRequest = call.body
    call.principal.require_tenant(body.tenant_id)
    connection, created = service.create(call.tenant_id, body, call.keyed_id("conn"))
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
        replayed=not created,
    )


@endpoint(
    connections,
    "/integrations/connections",
    "GET",
    summary="List connections",
    tag=TAG,
    scope="integration.connections.read",
    query="chalicelib.connections.models.ConnectionListQuery",
    response="chalicelib.connections.models.ConnectionList",
    errors=(400,),
)
def list_connections(call: Call) -> ConnectionList:
    from chalicelib.connections import service
    from chalicelib.connections.models import ConnectionList

    items, next_cursor = service.list_page(call.tenant_id, call.query)
    return ConnectionList(items=items, next_cursor=next_cursor)


@endpoint(
    connections,
    "/integrations/connections/{connectionId}",
    "GET",
    summary="Get a connection, its health and its usage numbers",
    tag=TAG,
    scope="integration.connections.read",
    response="chalicelib.connections.models.Connection",
    errors=(404,),
)
def get_connection(call: Call) -> Connection:
    from chalicelib.connections import service
    from chalicelib.stats import read
    from chalicelib.stats.record import CONNECTION

    connection = service.get(call.tenant_id, call.path["connectionId"])
    numbers = read.usage(call.tenant_id, CONNECTION, connection.connection_id)
    return connection.model_copy(update={"stats": numbers, "trace_id": current_trace_id()})


@endpoint(
    connections,
    "/integrations/connections/{connectionId}/webhook-secret",
    "PUT",
    summary="Change the inbound webhook secret; the old one verifies until overlapSeconds pass",
    tag=TAG,
    scope="integration.connections.write",
    request="chalicelib.connections.models.WebhookSecretChange",
    response="chalicelib.connections.models.WebhookSecretChanged",
    errors=(400, 404, 422),
)
def change_webhook_secret(call: Call) -> WebhookSecretChanged:
    from chalicelib.connections import service

    return service.change_webhook_secret(call.tenant_id, call.path["connectionId"], call.body)


@endpoint(
    connections,
    "/integrations/connections/{connectionId}",
    "PATCH",
    summary="Change a connection's display name, configuration or project",
    tag=TAG,
    scope="integration.connections.write",
    request="chalicelib.connections.lifecycle.UpdateConnectionRequest",
    response="chalicelib.connections.models.Connection",
    errors=(400, 404),
)
def update_connection(call: Call) -> Connection:
    from chalicelib.connections import lifecycle

    return lifecycle.update(call.tenant_id, call.path["connectionId"], call.body)


@endpoint(
    connections,
    "/integrations/connections/{connectionId}",
    "DELETE",
    summary="Delete a connection; its credential is scheduled for deletion unless another connection uses it",
    tag=TAG,
    scope="integration.connections.write",
    response="chalicelib.connections.lifecycle.ConnectionDeleted",
    errors=(404,),
)
def delete_connection(call: Call) -> ConnectionDeleted:
    from chalicelib.connections import lifecycle

    return lifecycle.delete(call.tenant_id, call.path["connectionId"])


@endpoint(
    connections,
    "/integrations/connections/{connectionId}/credentials",
    "PUT",
    summary="Replace the connection's credential with a new Secrets Manager version (never echoed)",
    tag=TAG,
    scope="integration.connections.write",
    request="chalicelib.connections.lifecycle.CredentialsChange",
    response="chalicelib.connections.lifecycle.CredentialsChanged",
    errors=(400, 404, 409),
)
def change_credentials(call: Call) -> CredentialsChanged:
    from chalicelib.connections import lifecycle

    return lifecycle.change_credentials(call.tenant_id, call.path["connectionId"], call.body)


@endpoint(
    connections,
    "/integrations/connections/{connectionId}/activate",
    "POST",
    summary="Activate an inactive connection",
    tag=TAG,
    scope="integration.connections.write",
    response="chalicelib.connections.lifecycle.StatusChanged",
    errors=(404, 409),
)
def activate_connection(call: Call) -> StatusChanged:
    from chalicelib.connections import lifecycle
    from chalicelib.connections.models import ConnectionStatus

    return lifecycle.set_status(call.tenant_id, call.path["connectionId"], ConnectionStatus.ACTIVE)


@endpoint(
    connections,
    "/integrations/connections/{connectionId}/deactivate",
    "POST",
    summary="Deactivate a connection: no runs, no health checks, inbound deliveries refused",
    tag=TAG,
    scope="integration.connections.write",
    response="chalicelib.connections.lifecycle.StatusChanged",
    errors=(404, 409),
)
def deactivate_connection(call: Call) -> StatusChanged:
    from chalicelib.connections import lifecycle
    from chalicelib.connections.models import ConnectionStatus

    return lifecycle.set_status(call.tenant_id, call.path["connectionId"], ConnectionStatus.INACTIVE)


@endpoint(
    connections,
    "/integrations/connections/{connectionId}/test",
    "POST",
    summary="Call the vendor now with the connection's credential; latency and message, nothing recorded",
    tag=TAG,
    scope="integration.connections.write",
    response="chalicelib.connections.health.ConnectionTest",
    errors=(404, 409, 503),
)
def test_connection(call: Call) -> ConnectionTest:
    from chalicelib.connections import health

    return health.try_connection(call.tenant_id, call.path["connectionId"])


@endpoint(
    connections,
    "/integrations/connections/{connectionId}/health",
    "GET",
    summary="The connection's last recorded health and its individual checks",
    tag=TAG,
    scope="integration.connections.read",
    response="chalicelib.connections.health.ConnectionHealth",
    errors=(404,),
)
def get_health(call: Call) -> ConnectionHealth:
    from chalicelib.connections import health

    return health.view(call.tenant_id, call.path["connectionId"])


@endpoint(
    connections,
    "/integrations/connections/{connectionId}/health/check",
    "POST",
    summary="Run the health check now and record it",
    tag=TAG,
    scope="integration.connections.write",
    response="chalicelib.connections.health.ConnectionHealth",
    errors=(404, 409, 503),
)
def check_health(call: Call) -> ConnectionHealth:
    from chalicelib.connections import health

    return health.check_now(call.tenant_id, call.path["connectionId"])
