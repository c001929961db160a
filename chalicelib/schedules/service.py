"""Creating, reading, pausing, resuming and deleting schedules, and what a connection's lifecycle does to them.

Every change of a schedule item is committed with its event in one transaction
(``chalicelib.events.emit.commit``); Scheduler is told after that
(``chalicelib.schedules.scheduler``). Creating is the exception: the Scheduler
schedule is made first, so a 201 never names a schedule that cannot fire, and
removed again when the item's commit fails. A schedule paused by its
connection's deactivation (``pausedBy: Connection``) is resumed by the
reactivation; one a caller paused stays paused.
"""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.registry import adapter_for
from chalicelib.connections import service as connections
from chalicelib.connections.models import ConnectionStatus
from chalicelib.core.context import current_trace_id
from chalicelib.core.errors import Conflict, NotFound, ServiceUnavailable
from chalicelib.core.ids import new_id
from chalicelib.core.logging import logger
from chalicelib.core.timestamps import now_text
from chalicelib.events import catalog
from chalicelib.events.emit import commit, new_event
from chalicelib.events.models import PlatformEvent
from chalicelib.providers import service as providers
from chalicelib.schedules import expressions, scheduler, store
from chalicelib.schedules.models import (
    CreateScheduleRequest,
    PausedBy,
    Schedule,
    ScheduleDeleted,
    ScheduleListQuery,
    ScheduleState,
)

SOURCE = "platform.schedules"


def _event(schedule: Schedule, event_type: str, **extra: Any) -> PlatformEvent:
    data = {"scheduleId": schedule.schedule_id, "connectionId": schedule.connection_id, **extra}
    return new_event(schedule.tenant_id, event_type, data, source=SOURCE)


def _traced(schedule: Schedule) -> Schedule:
    return schedule.model_copy(update={"trace_id": current_trace_id()})


def create(
    tenant_id: str, connection_id: str, request: CreateScheduleRequest, schedule_id: str | None = None
) -> tuple[Schedule, bool]:
    """The schedule, and whether this call created it.

    ``schedule_id`` is a keyed request's (``Call.keyed_id``): when its item exists the first attempt made it
    and it is answered as it is; a Scheduler schedule a first attempt left without its item is replaced.
    """
    if schedule_id is not None:
        existing = store.get(tenant_id, schedule_id)
        if existing is not None:
            return _traced(existing), False
    connection = connections.get(tenant_id, connection_id)
    adapter = adapter_for(providers.get(tenant_id, connection.provider_id))
    parameters = adapter.operation(request.operation).validate(request.parameters)
    expressions.expression(request.rate, request.cron)
    expressions.check_timezone(request.timezone)
    at = now_text()
    paused = connection.status != ConnectionStatus.ACTIVE
    schedule = Schedule(
        schedule_id=schedule_id or new_id("sched"),
        tenant_id=tenant_id,
        connection_id=connection_id,
        operation=request.operation,
        parameters=parameters.model_dump(mode="json", by_alias=True, exclude_none=True),
        rate=" ".join(request.rate.split()) if request.rate else None,
        cron=expressions.check_cron(request.cron) if request.cron else None,
        timezone=request.timezone,
        description=request.description,
        state=ScheduleState.PAUSED if paused else ScheduleState.ENABLED,
        paused_by=PausedBy.CONNECTION if paused else None,
        created_at=at,
        updated_at=at,
    )
    if schedule_id is None:
        scheduler.create(schedule)
    else:
        scheduler.update(schedule)  # creates it, or replaces one that a first attempt left without its item
    event = _event(schedule, catalog.SCHEDULE_CREATED, operation=schedule.operation, state=schedule.state.value)
    try:
        written = commit(store.TABLE.put_new_entry(store.item_of(schedule)), event)
    except Exception:
        scheduler.delete(schedule.schedule_id)
        raise
    if not written:
        existing = store.get(tenant_id, schedule.schedule_id) if schedule_id is not None else None
        if existing is not None:  # a concurrent repeat with the same key wrote it first: its schedule stays
            return _traced(existing), False
        scheduler.delete(schedule.schedule_id)  # a new random id cannot exist; treat it as the store refusing
        raise ServiceUnavailable("The schedule could not be recorded; retry the request.")
    return _traced(schedule), True


def get(tenant_id: str, connection_id: str, schedule_id: str) -> Schedule:
    schedule = store.get(tenant_id, schedule_id)
    if schedule is None or schedule.connection_id != connection_id:
        raise NotFound(f"Schedule '{schedule_id}' was not found.")
    return _traced(schedule)


def list_page(tenant_id: str, connection_id: str, query: ScheduleListQuery) -> tuple[list[Schedule], str | None]:
    connections.get(tenant_id, connection_id)  # 404 for a connection that does not exist
    return store.list_page(tenant_id, connection_id, query.limit, query.cursor)


def _move(schedule: Schedule, state: ScheduleState, paused_by: PausedBy | None) -> Schedule | None:
    """One conditional change of state (from the state as read), with its event; ``None`` if it moved meanwhile."""
    changes: dict[str, Any] = {"state": state.value, "updatedAt": now_text()}
    remove = None
    if paused_by is not None:
        changes["pausedBy"] = paused_by.value
    else:
        remove = ["pausedBy"]
    entry = store.TABLE.update_entry(
        schedule.tenant_id,
        schedule.schedule_id,
        changes,
        "#state = :from",
        condition_values={":from": schedule.state.value},
        condition_names={"#state": "state"},
        remove=remove,
    )
    event_type = catalog.SCHEDULE_PAUSED if state == ScheduleState.PAUSED else catalog.SCHEDULE_RESUMED
    moved = schedule.model_copy(update={"state": state, "paused_by": paused_by, "updated_at": changes["updatedAt"]})
    if not commit(entry, _event(moved, event_type, pausedBy=paused_by.value if paused_by else None)):
        return None
    scheduler.update(moved)
    return moved


def pause(tenant_id: str, connection_id: str, schedule_id: str) -> Schedule:
    """Pausing a paused schedule is a no-op; a schedule the connection paused becomes the caller's pause."""
    schedule = get(tenant_id, connection_id, schedule_id)
    if schedule.state == ScheduleState.PAUSED and schedule.paused_by == PausedBy.CALLER:
        return schedule
    if schedule.state == ScheduleState.PAUSED:
        changes = {"pausedBy": PausedBy.CALLER.value, "updatedAt": now_text()}
        store.TABLE.update(tenant_id, schedule_id, changes)
        return get(tenant_id, connection_id, schedule_id)
    moved = _move(schedule, ScheduleState.PAUSED, PausedBy.CALLER)
    if moved is None:
        raise Conflict(f"Schedule '{schedule_id}' changed meanwhile; read it and retry.")
    return _traced(moved)


def resume(tenant_id: str, connection_id: str, schedule_id: str) -> Schedule:
    """Resuming needs an Active connection (its schedules would only make failing runs); resuming twice is a no-op."""
    schedule = get(tenant_id, connection_id, schedule_id)
    if schedule.state == ScheduleState.ENABLED:
        return schedule
    connection = connections.get(tenant_id, connection_id)
    if connection.status != ConnectionStatus.ACTIVE:
        raise Conflict(f"Connection '{connection_id}' is {connection.status}; activate it to resume its schedules.")
    moved = _move(schedule, ScheduleState.ENABLED, None)
    if moved is None:
        raise Conflict(f"Schedule '{schedule_id}' changed meanwhile; read it and retry.")
    return _traced(moved)


def _remove(schedule: Schedule) -> bool:
    entry = store.delete_entry(schedule.tenant_id, schedule.schedule_id)
    if not commit(entry, _event(schedule, catalog.SCHEDULE_DELETED)):
        return False
    scheduler.delete(schedule.schedule_id)
    return True


def delete(tenant_id: str, connection_id: str, schedule_id: str) -> ScheduleDeleted:
    schedule = get(tenant_id, connection_id, schedule_id)
    if not _remove(schedule):
        raise NotFound(f"Schedule '{schedule_id}' was not found.")
    return ScheduleDeleted(schedule_id=schedule_id, trace_id=current_trace_id())


def connection_deactivated(tenant_id: str, connection_id: str) -> None:
    """Pause the connection's enabled schedules (``pausedBy: Connection``)."""
    for schedule in store.of_connection(tenant_id, connection_id):
        if schedule.state == ScheduleState.ENABLED:
            _move(schedule, ScheduleState.PAUSED, PausedBy.CONNECTION)


def connection_activated(tenant_id: str, connection_id: str) -> None:
    """Resume only the schedules the deactivation paused."""
    for schedule in store.of_connection(tenant_id, connection_id):
        if schedule.state == ScheduleState.PAUSED and schedule.paused_by == PausedBy.CONNECTION:
            _move(schedule, ScheduleState.ENABLED, None)


def connection_deleted(tenant_id: str, connection_id: str) -> None:
    for schedule in store.of_connection(tenant_id, connection_id):
        if not _remove(schedule):
            logger.info("schedule already removed", extra={"scheduleId": schedule.schedule_id})
