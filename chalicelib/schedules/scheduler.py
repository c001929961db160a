"""The EventBridge Scheduler side of a schedule: one Scheduler schedule per platform schedule.

Its target is the runs queue, its input a ``ScheduleFiring`` whose
``scheduledTime`` is Scheduler's ``<aws.scheduler.scheduled-time>`` context
attribute, so every firing names the time it stands for and a duplicate firing
names the same time (``chalicelib.schedules.firing``). A flexible window
spreads firings (``expressions.flexible_window``) and the retry policy keeps
trying to reach SQS for an hour. The DynamoDB item is the truth: Scheduler is
told after the item changes, and a firing for a schedule whose item is gone or
paused makes no run, so a crash between the two never runs what was stopped.
"""

from __future__ import annotations

import json
import threading

from chalicelib.core import aws
from chalicelib.core.config import get_settings
from chalicelib.runs.queue import runs_queue_url
from chalicelib.schedules import expressions
from chalicelib.schedules.models import Schedule, ScheduleState

SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"
RETRY_POLICY = {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 20}
_queue_arn: list[str] = []
_lock = threading.Lock()


def name_of(schedule_id: str) -> str:
    """Scheduler names are unique per account and group: the stage's prefix keeps stages apart."""
    return f"{get_settings().resource_prefix}-{schedule_id}"[:64]


def runs_queue_arn() -> str:
    if not _queue_arn:
        attributes = aws.sqs().get_queue_attributes(QueueUrl=runs_queue_url(), AttributeNames=["QueueArn"])
        with _lock:
            _queue_arn[:] = [attributes["Attributes"]["QueueArn"]]
    return _queue_arn[0]


def firing_input(schedule: Schedule) -> str:
    return json.dumps(
        {
            "tenantId": schedule.tenant_id,
            "connectionId": schedule.connection_id,
            "scheduleId": schedule.schedule_id,
            "operation": schedule.operation,
            "scheduledTime": SCHEDULED_TIME,
        }
    )


def _definition(schedule: Schedule) -> dict[str, object]:
    return {
        "Name": name_of(schedule.schedule_id),
        "ScheduleExpression": expressions.expression(schedule.rate, schedule.cron),
        "ScheduleExpressionTimezone": schedule.timezone,
        "FlexibleTimeWindow": expressions.flexible_window(schedule.rate),
        "State": "ENABLED" if schedule.state == ScheduleState.ENABLED else "DISABLED",
        "Description": f"{schedule.operation} on {schedule.connection_id} for {schedule.tenant_id}"[:512],
        "Target": {
            "Arn": runs_queue_arn(),
            "RoleArn": get_settings().scheduler_role_arn,
            "Input": firing_input(schedule),
            "RetryPolicy": RETRY_POLICY,
        },
    }


def create(schedule: Schedule) -> None:
    aws.scheduler().create_schedule(**_definition(schedule))  # type: ignore[arg-type]


def update(schedule: Schedule) -> None:
    """Scheduler's update replaces the whole definition, so pausing and resuming send all of it."""
    client = aws.scheduler()
    try:
        client.update_schedule(**_definition(schedule))  # type: ignore[arg-type]
    except client.exceptions.ResourceNotFoundException:
        create(schedule)  # a crash left the item without its Scheduler schedule: put it back


def delete(schedule_id: str) -> None:
    client = aws.scheduler()
    try:
        client.delete_schedule(Name=name_of(schedule_id))
    except client.exceptions.ResourceNotFoundException:
        return
