"""Counting: one ``UpdateItem ... ADD`` per (tenant, connection or subscription, hour).

An hour's item holds the hour's totals, a fixed log-scale latency histogram (the p50/p95
source), and the same totals per minute of the hour (``m07_call_ok``), so minute, hour and
day series all come from one item and a count is still ONE write. ``lastAt`` is a plain SET:
writers racing in the same hour may leave a value a few milliseconds older than the newest.

A handler that processes a batch opens ``collecting()``: observations are summed in memory
and flushed as one write per (series, hour) when the batch ends. What a sender can flood
(refused deliveries) is counted through ``Amortized``: at most one write per series a while. A write that fails
(throttled, AWS down) is logged and dropped; counting never fails what it counts.
"""

from __future__ import annotations

import contextvars
import threading
import time
from bisect import bisect_left
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from chalicelib.core import aws
from chalicelib.core.config import get_settings
from chalicelib.core.logging import logger
from chalicelib.core.timestamps import format_time

TABLE = "stats"
TENANT_INDEX = "byTenant"
RETENTION_DAYS = 35
HOUR_FORMAT = "%Y-%m-%dT%H"
# Upper bounds (ms) of the histogram's buckets; the last bucket (h9) is everything slower.
LATENCY_BOUNDS_MS = (50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000)
CONNECTION, SUBSCRIPTION = "c", "s"

Kind = Literal["call", "run", "out"]
InboundOutcome = Literal["accepted", "rejected", "duplicate"]


def series_key(tenant_id: str, subject: str, subject_id: str) -> str:
    """Tenant first, as every key in the platform: ``<tenant>#c#<connectionId>``."""
    return f"{tenant_id}#{subject}#{subject_id}"


def hour_key(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(HOUR_FORMAT)


def latency_bucket(latency_ms: int) -> int:
    return bisect_left(LATENCY_BOUNDS_MS, max(latency_ms, 0))


@dataclass
class Observation:
    """What one event adds to one series' hour; ``timed`` and ``inbound`` build it."""

    tenant_id: str
    subject: str
    subject_id: str
    at: datetime
    counters: dict[str, int] = field(default_factory=dict)
    used: bool = False  # a vendor call or a delivery attempt: moves ``lastAt``

    def timed(self, kind: Kind, ok: bool, latency_ms: int) -> Observation:
        """A call, run or delivery that succeeded or failed after ``latency_ms``."""
        self.used = self.used or kind != "run"
        self._add(f"{kind}_{'ok' if ok else 'failed'}", 1)
        self._add(f"{kind}_lat", max(latency_ms, 0))
        bucket = f"{kind}_h{latency_bucket(latency_ms)}"  # hour only: minute series carry no percentiles
        self.counters[bucket] = self.counters.get(bucket, 0) + 1
        return self

    def inbound(self, outcome: InboundOutcome) -> Observation:
        self._add(f"in_{outcome}", 1)
        return self

    def _add(self, name: str, value: int) -> None:
        """Hour total and the minute's own: ``call_ok`` and ``m07_call_ok``."""
        self.counters[name] = self.counters.get(name, 0) + value
        minute = f"m{self.at.minute:02d}_{name}"
        self.counters[minute] = self.counters.get(minute, 0) + value


def for_connection(tenant_id: str, connection_id: str) -> Observation:
    return Observation(tenant_id, CONNECTION, connection_id, datetime.now(UTC))


def for_subscription(tenant_id: str, subscription_id: str) -> Observation:
    return Observation(tenant_id, SUBSCRIPTION, subscription_id, datetime.now(UTC))


@dataclass
class _Pending:
    tenant_id: str
    counters: dict[str, int] = field(default_factory=dict)
    last_at: datetime | None = None


class Batch:
    """Observations summed per (series, hour) until ``flush``; safe to add to from a thread pool."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[tuple[str, str], _Pending] = {}

    def add(self, observation: Observation) -> None:
        key = (series_key(observation.tenant_id, observation.subject, observation.subject_id), hour_key(observation.at))
        with self._lock:
            pending = self._pending.setdefault(key, _Pending(observation.tenant_id))
            for name, value in observation.counters.items():
                pending.counters[name] = pending.counters.get(name, 0) + value
            if observation.used and (pending.last_at is None or observation.at > pending.last_at):
                pending.last_at = observation.at

    def flush(self) -> int:
        """One write per (series, hour); the number of writes that succeeded."""
        with self._lock:
            pending, self._pending = self._pending, {}
        return sum(_write(series, hour, item) for (series, hour), item in pending.items())


_current: contextvars.ContextVar[Batch | None] = contextvars.ContextVar("stats_batch", default=None)


@contextmanager
def collecting() -> Iterator[Batch]:
    """Sum what this handler invocation records; flushed (best effort) when the block ends."""
    batch = Batch()
    token = _current.set(batch)
    try:
        yield batch
    finally:
        _current.reset(token)
        batch.flush()


class Amortized:
    """Counts a sender can flood (refused deliveries): per series, written at most once per ``interval`` seconds.

    The first count of a quiet series is written at once, so the number shows up; what comes within the
    interval is summed in this container and rides with the series' next write after it. A flood of forged
    requests then costs one write per connection and interval per container, not one per request. What a
    container still holds when Lambda recycles it is lost, as any best-effort count may be.
    """

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._lock = threading.Lock()
        self._held: dict[str, tuple[float, Batch]] = {}

    def add(self, observation: Observation, now: float | None = None) -> None:
        moment = time.monotonic() if now is None else now
        series = series_key(observation.tenant_id, observation.subject, observation.subject_id)
        with self._lock:
            due, batch = self._held.get(series, (moment, Batch()))
            batch.add(observation)
            if moment < due:
                self._held[series] = (due, batch)
                return
            self._held[series] = (moment + self.interval, Batch())
        batch.flush()


def record(observation: Observation) -> None:
    """Count now (one write), or add to the batch this handler is collecting."""
    batch = _current.get()
    if batch is not None:
        batch.add(observation)
        return
    single = Batch()
    single.add(observation)
    single.flush()


def _write(series: str, hour: str, pending: _Pending) -> bool:
    if not pending.counters:
        return False
    names = {f"#a{i}": name for i, name in enumerate(pending.counters)}
    values = {f":a{i}": {"N": str(value)} for i, value in enumerate(pending.counters.values())}
    sets = ["#tenant = :tenant", "#expires = :expires"]
    names |= {"#tenant": "tenantId", "#expires": "expiresAt"}
    hour_start = datetime.strptime(hour, HOUR_FORMAT).replace(tzinfo=UTC)
    values |= {
        ":tenant": {"S": pending.tenant_id},
        ":expires": {"N": str(int((hour_start + timedelta(days=RETENTION_DAYS)).timestamp()))},
    }
    if pending.last_at is not None:
        sets.append("#last = :last")
        names["#last"] = "lastAt"
        values[":last"] = {"S": format_time(pending.last_at)}
    try:
        aws.dynamodb().update_item(
            TableName=get_settings().table_name(TABLE),
            Key={"seriesKey": {"S": series}, "hour": {"S": hour}},
            UpdateExpression="ADD "
            + ", ".join(f"#a{i} :a{i}" for i in range(len(pending.counters)))
            + " SET "
            + ", ".join(sets),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
    except Exception:
        # Best-effort numbers (docs/observability.md): never fail, retry or block the flow being counted.
        logger.warning("a stats write was dropped", extra={"seriesKey": series, "hour": hour}, exc_info=True)
        return False
    return True
