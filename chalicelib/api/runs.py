"""Run routes: get, list, cancel."""

from __future__ import annotations

from chalice.app import Blueprint

from chalicelib.api.routing import Call, endpoint
from chalicelib.core.context import current_trace_id
from chalicelib.runs import service
from chalicelib.runs.models import Run, RunList, RunListQuery

runs = Blueprint(__name__)
TAG = "Runs"


def _traced(run: Run) -> Run:
    return run if run.trace_id else run.model_copy(update={"trace_id": current_trace_id()})


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
    return _traced(service.get(call.tenant_id, call.path["runId"]))


@endpoint(
    runs,
    "/integrations/runs",
    "GET",
    summary="List runs, newest first for one connection",
    tag=TAG,
    scope="integration.runs.read",
    query=RunListQuery,
    response=RunList,
    errors=(400,),
)
def list_runs(call: Call) -> RunList:
    items, next_cursor = service.list_page(call.tenant_id, call.query)
    return RunList(items=items, next_cursor=next_cursor)


@endpoint(
    runs,
    "/integrations/runs/{runId}/cancel",
    "POST",
    summary="Cancel a run that has not started",
    tag=TAG,
    scope="integration.runs.write",
    response=Run,
    errors=(404, 409),
)
def cancel_run(call: Call) -> Run:
    return _traced(service.cancel(call.tenant_id, call.path["runId"]))
