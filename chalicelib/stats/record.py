"""Counting: one ``UpdateItem ... ADD`` per (tenant, connection or subscription, hour), and one per minute.

An hour's item holds the hour's totals and a fixed log-scale latency histogram (the p50/p95
source); each minute with traffic has its own small item (``<series>#m``, sort key
``2026-11-28T06:07``) with that minute's totals, so no item grows with the minutes of its
hour and an hour write stays one write unit. ``lastAt`` is a plain SET: writers racing in
the same hour may leave a value a few milliseconds older than the newest.

Nothing here writes per event on a busy path (issue 23): counts are summed per series in this
container (``HELD``) and written at most once per series every ``FLUSH_SECONDS``. The first
count of a quiet series is written at once, so a lone event shows up at once; what comes
within the interval is held and goes with the series' next flush, at the end of a later
invocation once it is due. What a container holds when Lambda recycles it is lost: at most
``FLUSH_SECONDS`` of that container's counts per series.

- A handler that processes a batch opens ``collecting()``: its observations are summed in
  memory and handed to ``HELD`` when the batch ends, which writes what is due.
- A request path that a sender can drive (the vendor-facing route: duplicates, refused
  deliveries) counts through ``tally``; every route ends with ``flush_due``.
- Anything else (a health check or connection test on demand, a rotation's check) is written at once with
  ``record``: its answer shows its own numbers. The health sweep's checks answer nobody, so
  its batches collect like the other queue handlers'.

A write that fails (throttled, AWS down) is logged and its counts are held for the
container's next flush; counting never fails what it counts.
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
MINUTE_FORMAT = "%Y-%m-%dT%H:%M"
MINUTE_SERIES = "#m"  # a series' minute items: ``<tenant>#c#<connectionId>#m``
FLUSH_SECONDS = 5.0  # how long a container holds tallies of one series before writing them
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


def minute_key(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(MINUTE_FORMAT)


def latency_bucket(latency_ms: int) -> int:
    return bisect_left(LATENCY_BOUNDS_MS, max(latency_ms, 0))


@dataclass
class Observation:
    """What one event adds to one series' hour; ``timed`` and ``inbound`` build it."""

    tenant_id: str
    subject: str
    subject_id: str
    at: datetime
    counters: dict[str, int] = field(default_factory=dict)  # the hour item's: totals and histogram
    minute: dict[str, int] = field(default_factory=dict)  # the minute item's: totals
    used: bool = False  # a vendor call or a delivery attempt: moves ``lastAt``

    def timed(self, kind: Kind, ok: bool, latency_ms: int) -> Observation:
        """A call, run or delivery that succeeded or failed after ``latency_ms``."""
        self.used = self.used or kind != "run"
        self._add(f"{kind}_{'ok' if ok else 'failed'}", 1)
        self._add(f"{kind}_lat", max(latency_ms, 0))
        bucket = f"{kind}_h{latency_bucket(latency_ms)}"  # hour only: minute items carry no percentiles
        self.counters[bucket] = self.counters.get(bucket, 0) + 1
        return self

    def inbound(self, outcome: InboundOutcome) -> Observation:
        self._add(f"in_{outcome}", 1)
        return self

    def _add(self, name: str, value: int) -> None:
        """The hour's total and the minute's."""
        self.counters[name] = self.counters.get(name, 0) + value
        self.minute[name] = self.minute.get(name, 0) + value


def for_connection(tenant_id: str, connection_id: str) -> Observation:
    return Observation(tenant_id, CONNECTION, connection_id, datetime.now(UTC))


def for_subscription(tenant_id: str, subscription_id: str) -> Observation:
    return Observation(tenant_id, SUBSCRIPTION, subscription_id, datetime.now(UTC))


@dataclass
class _Pending:
    """What one (series, hour) has to write: the hour item's counts and each minute item's."""

    tenant_id: str
    counters: dict[str, int] = field(default_factory=dict)
    minutes: dict[str, dict[str, int]] = field(default_factory=dict)
    last_at: datetime | None = None

    def merge(self, other: _Pending) -> None:
        _sum_into(self.counters, other.counters)
        for minute, counters in other.minutes.items():
            _sum_into(self.minutes.setdefault(minute, {}), counters)
        if other.last_at is not None and (self.last_at is None or other.last_at > self.last_at):
            self.last_at = other.last_at


def _sum_into(total: dict[str, int], part: dict[str, int]) -> None:
    for name, value in part.items():
        total[name] = total.get(name, 0) + value


Key = tuple[str, str]  # (series, hour)


class Batch:
    """Observations summed per (series, hour) until ``flush``; safe to add to from a thread pool."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[Key, _Pending] = {}

    def add(self, observation: Observation) -> None:
        key = (series_key(observation.tenant_id, observation.subject, observation.subject_id), hour_key(observation.at))
        counted = _Pending(observation.tenant_id, dict(observation.counters))
        if observation.minute:
            counted.minutes[minute_key(observation.at)] = dict(observation.minute)
        if observation.used:
            counted.last_at = observation.at
        self.merge(key, counted)

    @property
    def empty(self) -> bool:
        with self._lock:
            return not self._pending

    def merge(self, key: Key, pending: _Pending) -> None:
        with self._lock:
            self._pending.setdefault(key, _Pending(pending.tenant_id)).merge(pending)

    def take(self) -> dict[Key, _Pending]:
        """Everything summed so far, leaving the batch empty."""
        with self._lock:
            pending, self._pending = self._pending, {}
        return pending

    def flush(self) -> dict[Key, _Pending]:
        """One write per item (the hour's, each minute's); what could not be written, to be tried again."""
        return {key: left for key, item in self.take().items() if (left := _write(key, item)) is not None}


_current: contextvars.ContextVar[Batch | None] = contextvars.ContextVar("stats_batch", default=None)


class Amortized:
    """Counts summed per series in this container and written at most once per ``interval`` seconds.

    The first count of a quiet series is written at once, so the number shows up; what comes within the
    interval is held and written with the series' next count after it, or by ``flush_due`` (the end of a
    later invocation). A flood of requests then costs one write per series and interval per container, not
    one per request. Writes that failed are held here too and go with the series' next flush.
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
        self.hold(batch.flush(), moment)

    def flush_due(self, now: float | None = None) -> None:
        """Write every series whose interval has passed; forget the quiet ones (their next count goes at once)."""
        moment = time.monotonic() if now is None else now
        with self._lock:
            due = [(series, batch) for series, (at, batch) in self._held.items() if moment >= at]
            for series, batch in due:
                if batch.empty:
                    del self._held[series]
                else:
                    self._held[series] = (moment + self.interval, Batch())
        for _, batch in due:
            if not batch.empty:
                self.hold(batch.flush(), moment)

    def hold(self, counts: dict[Key, _Pending], now: float | None = None, wait: bool = True) -> None:
        """Held for their series' next flush: a failed write's counts (``wait``: an interval from now at the
        earliest), or a batch's (a quiet series is due at once, a busy one when its interval ends)."""
        moment = time.monotonic() if now is None else now
        with self._lock:
            for (series, hour), pending in counts.items():
                due, batch = self._held.get(series, (moment + self.interval if wait else moment, Batch()))
                batch.merge((series, hour), pending)
                self._held[series] = (due, batch)


HELD = Amortized(FLUSH_SECONDS)


@contextmanager
def collecting() -> Iterator[Batch]:
    """Sum what this handler invocation records; when the block ends, hand it to the container's held counts
    and write every series that is due (a quiet one at once, a busy one once per ``FLUSH_SECONDS``)."""
    batch = Batch()
    token = _current.set(batch)
    try:
        yield batch
    finally:
        _current.reset(token)
        HELD.hold(batch.take(), wait=False)
        HELD.flush_due()


def record(observation: Observation) -> None:
    """Count now (one write per item), or add to the batch this handler is collecting."""
    batch = _current.get()
    if batch is not None:
        batch.add(observation)
        return
    single = Batch()
    single.add(observation)
    HELD.hold(single.flush())


def tally(observation: Observation) -> None:
    """Count on a path a sender can drive: held in this container, written at most once per series a while."""
    HELD.add(observation)


def flush_due() -> None:
    """At the end of an invocation: write what this container held, for every series whose interval has passed."""
    HELD.flush_due()


def _write(key: Key, pending: _Pending) -> _Pending | None:
    """The hour item, then each minute's; ``None`` when all were written, else what is left to write."""
    series, hour = key
    if pending.counters and not _update(series, hour, pending.counters, _hour_sets(pending, hour)):
        return pending
    failed = {
        minute: counters
        for minute, counters in pending.minutes.items()
        if not _update(series + MINUTE_SERIES, minute, counters, {"expiresAt": {"N": _expires(hour)}})
    }
    return _Pending(pending.tenant_id, minutes=failed) if failed else None


def _hour_sets(pending: _Pending, hour: str) -> dict[str, dict[str, str]]:
    sets = {"tenantId": {"S": pending.tenant_id}, "expiresAt": {"N": _expires(hour)}}
    if pending.last_at is not None:
        sets["lastAt"] = {"S": format_time(pending.last_at)}
    return sets


def _expires(hour: str) -> str:
    hour_start = datetime.strptime(hour, HOUR_FORMAT).replace(tzinfo=UTC)
    return str(int((hour_start + timedelta(days=RETENTION_DAYS)).timestamp()))


def _update(partition: str, sort: str, counters: dict[str, int], sets: dict[str, dict[str, str]]) -> bool:
    """One ``UpdateItem``: ADD the counters, SET the plain attributes; False (logged) when it failed."""
    names = {f"#a{i}": name for i, name in enumerate(counters)} | {f"#s{i}": name for i, name in enumerate(sets)}
    values = {f":a{i}": {"N": str(value)} for i, value in enumerate(counters.values())}
    values |= {f":s{i}": value for i, value in enumerate(sets.values())}
    try:
        aws.dynamodb().update_item(
            TableName=get_settings().table_name(TABLE),
            Key={"seriesKey": {"S": partition}, "hour": {"S": sort}},
            UpdateExpression="ADD "
            + ", ".join(f"#a{i} :a{i}" for i in range(len(counters)))
            + " SET "
            + ", ".join(f"#s{i} = :s{i}" for i in range(len(sets))),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
    except Exception:
        # Best-effort numbers (docs/observability.md): never fail or block the flow being counted.
        logger.warning("a stats write failed; held for the next flush", extra={"seriesKey": partition}, exc_info=True)
        return False
    return True
