"""Operation routes: a connection's catalog, and executing an operation as an asynchronous run."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import Blueprint

from chalicelib.api.routing import Call, Reply, endpoint
from chalicelib.core.context import current_trace_id

if TYPE_CHECKING:
    from chalicelib.runs.models import ExecuteOperationRequest, OperationCatalog

operations = Blueprint(__name__)
TAG = "Operations"


@endpoint(
    operations,
    "/integrations/connections/{connectionId}/operations",
    "GET",
    summary="List the operations a connection's provider offers, with parameter and result schemas",
    tag=TAG,
    scope="integration.connections.read",
    response="chalicelib.runs.models.OperationCatalog",
    errors=(404,),
)
def list_operations(call: Call) -> OperationCatalog:
    from chalicelib.runs import service

    catalog = service.catalog(call.tenant_id, call.path["connectionId"])
    return catalog.model_copy(update={"trace_id": current_trace_id()})


@endpoint(
    operations,
    "/integrations/connections/{connectionId}/operations/{operation}",
    "POST",
    summary="Execute an operation asynchronously (202 with the run to poll; honours Idempotency-Key)",
    tag=TAG,
    scope="integration.runs.write",
    request="chalicelib.runs.models.ExecuteOperationRequest",
    response="chalicelib.runs.models.Run",
    status=202,
    errors=(400, 404, 409, 422, 503),
    idempotent=True,
)
def execute_operation(call: Call) -> Reply:
    from chalicelib.runs import service

    body: ExecuteOperationRequest = call.body
    call.principal.require_tenant(body.tenant_id)
    path = call.path
    run, created = service.start(
        call.tenant_id, path["connectionId"], path["operation"], body.parameters, call.keyed_id("run")
    )
    return Reply(run, headers={"Location": f"/integrations/runs/{run.run_id}"}, replayed=not created)
