"""A Scheduler firing on the runs queue, turned into exactly one run per schedule and scheduled time.

The run id is derived from the schedule id and the firing's
``scheduledTime`` (``run_id_for``), and the run is written with a condition
that it does not exist yet: Scheduler's at-least-once delivery, its retries and
SQS redeliveries all name the same run, so a duplicate firing never makes a
second run. The message that writes the run, or a duplicate, then drives it
like any other runs message (the first one to claim it owns it).

A firing makes no run when its schedule is gone or paused, or when its
connection is gone or inactive: the item is the truth, and the Scheduler
schedule may lag behind it after a crash (``chalicelib.schedules.scheduler``).
"""

from __future__ import annotations

import hashlib

from pydantic import ValidationError

from chalicelib.connections import store as connections
from chalicelib.connections.models import ConnectionStatus
from chalicelib.core.errors import ValidationFailed
from chalicelib.core.logging import logger
from chalicelib.core.models import WireModel
from chalicelib.core.timestamps import format_time, now_text, parse_time
from chalicelib.runs import store as runs
from chalicelib.runs.models import Run, RunStatus
from chalicelib.schedules import store
from chalicelib.schedules.models import ScheduleState


class ScheduleFiring(WireModel):
    """The Scheduler target's input (``scheduler.firing_input``) with the scheduled time filled in."""

    tenant_id: str
    connection_id: str
    schedule_id: str
    operation: str
    scheduled_time: str


def parse(body: str) -> ScheduleFiring | None:
    """A firing with a usable scheduled time, its time in the platform's one form; else ``None``."""
    try:
        firing = ScheduleFiring.model_validate_json(body)
        return firing.model_copy(update={"scheduled_time": format_time(parse_time(firing.scheduled_time))})
    except (ValidationError, ValidationFailed):
        return None


def run_id_for(schedule_id: str, scheduled_time: str) -> str:
    moment = format_time(parse_time(scheduled_time))  # one spelling of one instant
    return "run-" + hashlib.sha256(f"{schedule_id}@{moment}".encode()).hexdigest()[:24]


def materialize(firing: ScheduleFiring) -> str | None:
    """The id of the firing's run (written now, or by an earlier copy of this firing); ``None`` for no run."""
    run_id = run_id_for(firing.schedule_id, firing.scheduled_time)
    if runs.get(firing.tenant_id, run_id) is not None:
        return run_id
    schedule = store.get(firing.tenant_id, firing.schedule_id)
    skipped = {"scheduleId": firing.schedule_id, "scheduledTime": firing.scheduled_time}
    if schedule is None or schedule.state != ScheduleState.ENABLED:
        logger.info("firing of a removed or paused schedule makes no run", extra=skipped)
        return None
    connection = connections.get(firing.tenant_id, schedule.connection_id)
    if connection is None or connection.status != ConnectionStatus.ACTIVE:
        logger.info("firing for a missing or inactive connection makes no run", extra=skipped)
        return None
    run = Run(
        run_id=run_id,
        tenant_id=firing.tenant_id,
        connection_id=schedule.connection_id,
        operation=schedule.operation,
        status=RunStatus.PENDING,
        created_at=now_text(),
        provider_id=connection.provider_id,
        parameters=schedule.parameters,
        schedule_id=schedule.schedule_id,
        scheduled_time=firing.scheduled_time,
    )
    if runs.insert(run):
        store.TABLE.update(
            firing.tenant_id,
            schedule.schedule_id,
            {"lastRunId": run_id, "lastScheduledTime": firing.scheduled_time},
        )
    return run_id
