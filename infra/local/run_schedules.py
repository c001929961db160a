"""EventBridge Scheduler, played locally: moto stores schedules but never fires them.

Every ``poll`` seconds this lists the stage's schedules in moto (ListSchedules,
then GetSchedule for a new or due one) and, for each ENABLED ``rate(...)``
schedule, sends its target input to its SQS target once per period, with
``<aws.scheduler.scheduled-time>`` filled in as Scheduler would. The first
firing is one period after the schedule is first seen. ``scale`` multiplies
every period (``LOCAL_SCHEDULE_SCALE``, as for the app's own schedules), so a
"5 minutes" schedule fires every 3 s at 0.01; the scheduled time then has
milliseconds, so scaled firings stay distinct. ``cron(...)`` schedules are
reported once and not fired, as ``infra.local.scheduler`` does for the app's.
Flexible windows and retry policies are not simulated: firings are on time.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from infra.local.scheduler import rate_seconds

log = logging.getLogger(__name__)
SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"


@dataclass
class RunSchedules:
    scheduler: Any  # boto3 "scheduler" client on moto
    sqs: Any
    name_prefix: str
    scale: float = 1.0
    poll: float = 1.0
    due: dict[str, float] = field(default_factory=dict)
    skipped: set[str] = field(default_factory=set)
    fired: int = 0

    def names(self) -> dict[str, str]:
        """Name -> state of the stage's schedules."""
        found: dict[str, str] = {}
        paginator = self.scheduler.get_paginator("list_schedules")
        for page in paginator.paginate(NamePrefix=self.name_prefix):
            found |= {s["Name"]: s["State"] for s in page.get("Schedules", [])}
        return found

    def tick(self, now: float) -> None:
        current = self.names()
        for name in set(self.due) - {n for n, state in current.items() if state == "ENABLED"}:
            del self.due[name]  # deleted or paused: a resumed schedule starts a new period
        for name, state in current.items():
            if state != "ENABLED" or name in self.skipped:
                continue
            due = self.due.get(name)
            if due is None:
                period = self._period(name)
                if period is not None:
                    self.due[name] = now + period
            elif now >= due:
                period = self._fire(name)
                self.due[name] = max(due + (period or 0.0), now) if period else now + 60.0

    def _period(self, name: str) -> float | None:
        definition = self.scheduler.get_schedule(Name=name)
        try:
            seconds = rate_seconds(definition["ScheduleExpression"])
        except ValueError:  # at(...): a one-time schedule, which the platform does not create
            seconds = None
        if seconds is None:
            log.info("schedule %s is %s, which the local runtime does not fire", name, definition["ScheduleExpression"])
            self.skipped.add(name)
            return None
        return seconds * self.scale

    def _fire(self, name: str) -> float | None:
        try:
            definition = self.scheduler.get_schedule(Name=name)
        except self.scheduler.exceptions.ResourceNotFoundException:
            return None
        target = definition["Target"]
        moment = datetime.now(UTC)
        stamp = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
        queue = self.sqs.get_queue_url(QueueName=target["Arn"].rsplit(":", 1)[-1])["QueueUrl"]
        self.sqs.send_message(QueueUrl=queue, MessageBody=target.get("Input", "{}").replace(SCHEDULED_TIME, stamp))
        self.fired += 1
        seconds = rate_seconds(definition["ScheduleExpression"])
        return seconds * self.scale if seconds else None

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(self.poll):
            try:
                self.tick(time.monotonic())
            except Exception:
                log.exception("firing EventBridge Scheduler schedules failed; trying again")


def run_schedules(scheduler: Any, sqs: Any, resource_prefix: str, scale: float) -> RunSchedules:
    """Poll often enough for the shortest scaled period (a minute) to fire close to on time."""
    return RunSchedules(scheduler, sqs, f"{resource_prefix}-", scale, poll=min(1.0, max(0.1, 60 * scale / 4)))
