"""Run routes (read side)."""

from __future__ import annotations

from chalice.app import Blueprint

from chalicelib.api.routing import Call, endpoint
from chalicelib.core.context import current_trace_id
from chalicelib.runs import service
from chalicelib.runs.models import Run

runs = Blueprint(__name__)
TAG = "Runs"


@endpoint(
    runs,
    "/integrations/runs/{runId}",
    "GET",
    summary="Get a run and its outcome",
    tag=TAG,
    scope="integration.runs.read",
    response=Run,
    errors=(404,),
)
def get_run(call: Call) -> Run:
    run = service.get(call.tenant_id, call.path["runId"])
    return run if run.trace_id else run.model_copy(update={"trace_id": current_trace_id()})
