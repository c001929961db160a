"""EventBridge schedules, run locally.

Every ``@app.schedule`` with a ``rate(...)`` expression fires on its period
with the event EventBridge sends for a scheduled rule. ``cron(...)``
expressions are reported and not run: a wall-clock schedule rarely falls inside
a local session, and the handler can be exercised through its rate twin or a
test. ``scale`` multiplies every period (``LOCAL_SCHEDULE_SCALE=0.01`` turns an
hour into 36 seconds) so tests and demos need not wait.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from chalice.app import Chalice, ScheduledEventConfig

from infra.local.invoke import LOCAL_ACCOUNT, LocalFunction

log = logging.getLogger(__name__)
RATE = re.compile(r"^rate\((\d+)\s+(minute|hour|day)s?\)$")
UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def rate_seconds(expression: str) -> int | None:
    """Seconds between firings; None for a cron expression."""
    text = expression.strip()
    if text.startswith("cron(") and text.endswith(")"):
        return None
    match = RATE.match(text)
    if match is None or int(match[1]) < 1:
        raise ValueError(f"not a schedule expression: {expression!r}")
    return int(match[1]) * UNIT_SECONDS[match[2]]


def scheduled_event(rule_arn: str, region: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": LOCAL_ACCOUNT,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }


@dataclass(frozen=True)
class Schedule:
    function: LocalFunction
    expression: str
    period: float
    rule_arn: str


@dataclass
class Scheduler:
    schedules: list[Schedule]
    region: str
    unsupported: list[str] = field(default_factory=list)

    def fire(self, schedule: Schedule) -> None:
        try:
            schedule.function.invoke(scheduled_event(schedule.rule_arn, self.region))
        except Exception:
            log.exception("scheduled handler %s raised", schedule.function.name)

    def run(self, stop: threading.Event) -> None:
        """Fire each schedule one period after start and every period after; handlers run one at a time."""
        due = [time.monotonic() + s.period for s in self.schedules]
        while self.schedules and not stop.is_set():
            index = min(range(len(due)), key=due.__getitem__)
            if stop.wait(max(0.0, due[index] - time.monotonic())):
                return
            self.fire(self.schedules[index])
            due[index] = max(due[index] + self.schedules[index].period, time.monotonic())


def discover_schedules(app: Chalice, stage: str, region: str, scale: float = 1.0) -> Scheduler:
    if scale <= 0:
        raise ValueError("LOCAL_SCHEDULE_SCALE must be a positive number")
    scheduler = Scheduler(schedules=[], region=region)
    for source in app.event_sources:
        if not isinstance(source, ScheduledEventConfig):
            continue
        raw = source.schedule_expression
        expression = raw if isinstance(raw, str) else raw.to_string()
        seconds = rate_seconds(expression)
        if seconds is None:
            log.warning("%s runs on %s, which the local runtime does not run", source.name, expression)
            scheduler.unsupported.append(f"{source.name} {expression}")
            continue
        function = LocalFunction(app, source, stage, region)
        rule_arn = f"arn:aws:events:{region}:{LOCAL_ACCOUNT}:rule/{function.function_name}"
        scheduler.schedules.append(Schedule(function, expression, seconds * scale, rule_arn))
    return scheduler
