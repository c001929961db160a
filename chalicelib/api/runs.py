"""Run routes: get, list, cancel."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import Blueprint

from chalicelib.api.routing import Call, endpoint
from chalicelib.core.context import current_trace_id

if TYPE_CHECKING:
    from chalicelib.runs.models import Run, RunList

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
    response="chalicelib.runs.models.Run",
    errors=(404,),
)
def get_run(call: Call) -> Run:
    from chalicelib.runs import service

    return _traced(service.get(call.tenant_id, call.path["runId"]))


@endpoint(
    runs,
    "/integrations/runs",
    "GET",
    summary="List runs, newest first for one connection",
    tag=TAG,
    scope="integration.runs.read",
    query="chalicelib.runs.models.RunListQuery",
    response="chalicelib.runs.models.RunList",
    errors=(400,),
)
def list_runs(call: Call) -> RunList:
    from chalicelib.runs import service
    from chalicelib.runs.models import RunList

    items, next_cursor = service.list_page(call.tenant_id, call.query)
    return RunList(items=items, next_cursor=next_cursor)


@endpoint(
    runs,
    "/integrations/runs/{runId}/cancel",
    "POST",
    summary="Cancel a run that has not started",
    tag=TAG,
    scope="integration.runs.write",
    response="chalicelib.runs.models.Run",
    errors=(404, 409),
)
def cancel_run(call: Call) -> Run:
    from chalicelib.runs import service

    return _traced(service.cancel(call.tenant_id, call.path["runId"]))
