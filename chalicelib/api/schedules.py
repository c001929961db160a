"""Schedule routes: create, list, get, pause, resume, delete (under their connection)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import Blueprint

from chalicelib.api.routing import Call, Reply, endpoint

if TYPE_CHECKING:
    from chalicelib.schedules.models import CreateScheduleRequest, Schedule, ScheduleDeleted, ScheduleList

schedules = Blueprint(__name__)
TAG = "Schedules"
COLLECTION = "/integrations/connections/{connectionId}/schedules"
ITEM = COLLECTION + "/{scheduleId}"


@endpoint(
    schedules,
    COLLECTION,
    "POST",
    summary="Schedule an operation on a rate or a cron (EventBridge Scheduler); each firing is a run",
    tag=TAG,
    scope="integration.runs.write",
    request="chalicelib.schedules.models.CreateScheduleRequest",
    response="chalicelib.schedules.models.Schedule",
    status=201,
    errors=(400, 404, 422),
    idempotent=True,
)
def create_schedule(call: Call) -> Reply:
    from chalicelib.schedules import service

    body: CreateScheduleRequest = call.body
    call.principal.require_tenant(body.tenant_id)
    schedule, created = service.create(call.tenant_id, call.path["connectionId"], body, call.keyed_id("sched"))
    location = f"/integrations/connections/{schedule.connection_id}/schedules/{schedule.schedule_id}"
    return Reply(schedule, headers={"Location": location}, replayed=not created)


@endpoint(
    schedules,
    COLLECTION,
    "GET",
    summary="List a connection's schedules",
    tag=TAG,
    scope="integration.runs.read",
    query="chalicelib.schedules.models.ScheduleListQuery",
    response="chalicelib.schedules.models.ScheduleList",
    errors=(400, 404),
)
def list_schedules(call: Call) -> ScheduleList:
    from chalicelib.schedules import service
    from chalicelib.schedules.models import ScheduleList

    items, next_cursor = service.list_page(call.tenant_id, call.path["connectionId"], call.query)
    return ScheduleList(items=items, next_cursor=next_cursor)


@endpoint(
    schedules,
    ITEM,
    "GET",
    summary="Get a schedule",
    tag=TAG,
    scope="integration.runs.read",
    response="chalicelib.schedules.models.Schedule",
    errors=(404,),
)
def get_schedule(call: Call) -> Schedule:
    from chalicelib.schedules import service

    return service.get(call.tenant_id, call.path["connectionId"], call.path["scheduleId"])


@endpoint(
    schedules,
    ITEM + "/pause",
    "POST",
    summary="Pause a schedule (no firings until resumed)",
    tag=TAG,
    scope="integration.runs.write",
    response="chalicelib.schedules.models.Schedule",
    errors=(404, 409),
)
def pause_schedule(call: Call) -> Schedule:
    from chalicelib.schedules import service

    return service.pause(call.tenant_id, call.path["connectionId"], call.path["scheduleId"])


@endpoint(
    schedules,
    ITEM + "/resume",
    "POST",
    summary="Resume a paused schedule (its connection must be Active)",
    tag=TAG,
    scope="integration.runs.write",
    response="chalicelib.schedules.models.Schedule",
    errors=(404, 409),
)
def resume_schedule(call: Call) -> Schedule:
    from chalicelib.schedules import service

    return service.resume(call.tenant_id, call.path["connectionId"], call.path["scheduleId"])


@endpoint(
    schedules,
    ITEM,
    "DELETE",
    summary="Delete a schedule and its EventBridge Scheduler schedule",
    tag=TAG,
    scope="integration.runs.write",
    response="chalicelib.schedules.models.ScheduleDeleted",
    errors=(404,),
)
def delete_schedule(call: Call) -> ScheduleDeleted:
    from chalicelib.schedules import service

    return service.delete(call.tenant_id, call.path["connectionId"], call.path["scheduleId"])
