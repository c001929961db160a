"""Reading the buckets back: usage ``stats``, health ``metrics`` and ``GET /metrics`` series.

One series (a connection, a subscription) is a Query on its key; the tenant's whole series is
a Query on the ``byTenant`` index, summed across subjects. A minute series reads the minute
items (a Query per series on ``<series>#m``; the tenant's series are those with an hour item
in the window). p50/p95 are estimated from the
summed histograms by linear interpolation inside the bucket that holds the quantile, so they
are as fine as the bucket bounds (``record.LATENCY_BOUNDS_MS``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.core import aws
from chalicelib.core.config import get_settings
from chalicelib.core.context import current_trace_id
from chalicelib.core.dynamo import Item, batch_get_raw, deserialize
from chalicelib.core.errors import ValidationFailed
from chalicelib.core.logging import logger
from chalicelib.core.timestamps import format_time
from chalicelib.stats import record
from chalicelib.stats.models import (
    CallsPoint,
    Granularity,
    HealthMetrics,
    InboundPoint,
    MetricsPoint,
    MetricsQuery,
    MetricsSeries,
    OutboundPoint,
    RunsPoint,
    UsageStats,
)

STATS_WINDOW_DAYS = 30
MAX_POINTS = 1440
STEPS = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}
DEFAULT_SPANS = {"minute": timedelta(hours=1), "hour": timedelta(hours=24), "day": timedelta(days=30)}
Counters = dict[str, int]
# Hour keys are "%Y-%m-%dT%H" strings: four-digit years keep them in time order.
EARLIEST, LATEST = datetime(2000, 1, 1, tzinfo=UTC), datetime(2999, 12, 31, tzinfo=UTC)
OUT_OF_RANGE = "'from' and 'to' must lie between 2000-01-01 and 2999-12-31."


def _items(tenant_id: str, series: str | None, first: datetime, last: datetime) -> list[Item]:
    """Every hour item of one series (or, with ``None``, of every series of the tenant) in [first, last].

    The tenant's index holds keys only: every count is an ``ADD`` on the hour item, and an index that
    projected the counters would be written (and billed) on each one; a keys-only entry is written once,
    when the hour item is created. Reading the tenant's whole series is rare, so it pays the
    ``BatchGetItem`` instead. Minute items carry no ``tenantId``, so they are not in the index.
    """
    if series is not None:
        return [deserialize(raw) for raw in _query(series, record.hour_key(first), record.hour_key(last))]
    found = _query(tenant_id, record.hour_key(first), record.hour_key(last), index=record.TENANT_INDEX)
    keys = [{"seriesKey": raw["seriesKey"], "hour": raw["hour"]} for raw in found]
    return [deserialize(raw) for raw in batch_get_raw(get_settings().table_name(record.TABLE), keys)]


def _query(partition: str, first: str, last: str, index: str | None = None) -> list[dict[str, Any]]:
    """Every item of a partition (a series, its minutes, a tenant in the index) with its sort key in [first, last]."""
    params: dict[str, Any] = {
        "TableName": get_settings().table_name(record.TABLE),
        "KeyConditionExpression": "#pk = :pk AND #hour BETWEEN :first AND :last",
        "ExpressionAttributeNames": {"#pk": "tenantId" if index else "seriesKey", "#hour": "hour"},
        "ExpressionAttributeValues": {":pk": {"S": partition}, ":first": {"S": first}, ":last": {"S": last}},
    }
    if index is not None:
        params["IndexName"] = index
    found: list[dict[str, Any]] = []
    while True:
        response = aws.dynamodb().query(**params)
        found += response.get("Items", [])
        if "LastEvaluatedKey" not in response:
            return found
        params["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def _minutes(series: Iterable[str], first: datetime, last: datetime) -> dict[str, list[Counters]]:
    """The minute items of ``series`` in [first, last], by minute key."""
    by_minute: dict[str, list[Counters]] = {}
    for one in sorted(set(series)):
        for raw in _query(one + record.MINUTE_SERIES, record.minute_key(first), record.minute_key(last)):
            item = deserialize(raw)
            by_minute.setdefault(str(item["hour"]), []).append(_counters(item))
    return by_minute


# A minute's counter inside an hour item (m07_call_ok), as hour items held them before minute items
# (issue 23, 2026-12-07); read until the last of those items expires (RETENTION_DAYS after that).
_MINUTE = re.compile(r"m\d\d_")


def _counters(item: Mapping[str, Any], minute: int | None = None) -> Counters:
    """An item's totals, or one minute's from an older hour item (``m07_call_ok`` read as ``call_ok``)."""
    if minute is None:
        return {k: int(v) for k, v in item.items() if isinstance(v, int) and not _MINUTE.match(k) and k != "expiresAt"}
    prefix = f"m{minute:02d}_"
    return {k[len(prefix) :]: int(v) for k, v in item.items() if k.startswith(prefix)}


def _sum(parts: Iterable[Counters]) -> Counters:
    total: Counters = {}
    for part in parts:
        for name, value in part.items():
            total[name] = total.get(name, 0) + value
    return total


def percentile(counters: Counters, kind: str, quantile: float) -> int | None:
    """The latency below which ``quantile`` of the ``kind`` events fall, from the histogram."""
    histogram = [counters.get(f"{kind}_h{i}", 0) for i in range(len(record.LATENCY_BOUNDS_MS) + 1)]
    total = sum(histogram)
    if total == 0:
        return None
    target, seen = quantile * total, 0
    for index, count in enumerate(histogram):
        if count and seen + count >= target:
            lower = record.LATENCY_BOUNDS_MS[index - 1] if index else 0
            if index == len(record.LATENCY_BOUNDS_MS):
                return lower  # slower than the last bound: all we know is "at least"
            upper = record.LATENCY_BOUNDS_MS[index]
            return round(lower + (upper - lower) * (target - seen) / count)
        seen += count
    return None


def _timed(counters: Counters, kind: str) -> tuple[int, int, int | None, int | None]:
    """(succeeded, failed, average ms, p95 ms) of a kind."""
    ok, failed = counters.get(f"{kind}_ok", 0), counters.get(f"{kind}_failed", 0)
    average = round(counters.get(f"{kind}_lat", 0) / (ok + failed)) if ok + failed else None
    return ok, failed, average, percentile(counters, kind, 0.95)


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _last_at(items: Iterable[Item]) -> str | None:
    return max((str(item["lastAt"]) for item in items if "lastAt" in item), default=None)


def usage(tenant_id: str, subject: str, subject_id: str) -> UsageStats | None:
    """A connection's vendor calls, or a subscription's delivery attempts, over the last 30 days.

    ``None`` when the buckets cannot be read: the resource is still answered, without its numbers.
    """
    try:
        return _usage(tenant_id, subject, subject_id)
    except (BotoCoreError, ClientError):
        logger.warning("stats could not be read", extra={"subjectId": subject_id}, exc_info=True)
        return None


def _usage(tenant_id: str, subject: str, subject_id: str) -> UsageStats:
    now = datetime.now(UTC)
    items = _items(
        tenant_id, record.series_key(tenant_id, subject, subject_id), now - timedelta(days=STATS_WINDOW_DAYS), now
    )
    counters = _sum(_counters(item) for item in items)
    kind = "call" if subject == record.CONNECTION else "out"
    ok, failed, average, p95 = _timed(counters, kind)
    return UsageStats(
        window_days=STATS_WINDOW_DAYS,
        total_calls=ok + failed,
        failed_calls=failed,
        success_rate=_rate(ok, ok + failed),
        average_response_time_ms=average,
        p50_response_time_ms=percentile(counters, kind, 0.5),
        p95_response_time_ms=p95,
        last_used_at=_last_at(items),
    )


def health_metrics(tenant_id: str, connection_id: str) -> HealthMetrics | None:
    """The last 24 hour buckets (the current one included) of the connection's vendor calls; ``None`` if unreadable."""
    try:
        return _health_metrics(tenant_id, connection_id)
    except (BotoCoreError, ClientError):
        logger.warning("stats could not be read", extra={"connectionId": connection_id}, exc_info=True)
        return None


def _health_metrics(tenant_id: str, connection_id: str) -> HealthMetrics:
    now = datetime.now(UTC)
    series = record.series_key(tenant_id, record.CONNECTION, connection_id)
    counters = _sum(_counters(item) for item in _items(tenant_id, series, now - timedelta(hours=23), now))
    ok, failed, average, _ = _timed(counters, "call")
    return HealthMetrics(
        success_rate_24h=_rate(ok, ok + failed),
        average_latency_ms=average,
        error_rate=_rate(failed, ok + failed),
        total_calls_24h=ok + failed,
    )


def _floor(moment: datetime, granularity: Granularity) -> datetime:
    moment = moment.astimezone(UTC).replace(second=0, microsecond=0)
    if granularity != "minute":
        moment = moment.replace(minute=0)
    return moment.replace(hour=0) if granularity == "day" else moment


def window(query: MetricsQuery) -> tuple[datetime, datetime]:
    """[from, to) floored to the granularity; 400 when empty, reversed, out of range or over ``MAX_POINTS``."""
    try:
        end = (query.end or datetime.now(UTC)).astimezone(UTC)
        start = (query.start or end - DEFAULT_SPANS[query.granularity]).astimezone(UTC)
    except OverflowError as exc:
        raise ValidationFailed(OUT_OF_RANGE) from exc
    if start < EARLIEST or end > LATEST:
        raise ValidationFailed(OUT_OF_RANGE)
    if start >= end:
        raise ValidationFailed("'from' must be before 'to'.")
    start = _floor(start, query.granularity)
    points = -(-(end - start) // STEPS[query.granularity])
    if points > MAX_POINTS:
        raise ValidationFailed(
            f"The window holds {points} {query.granularity} points; at most {MAX_POINTS} are answered. "
            "Narrow it or choose a coarser granularity."
        )
    return start, end


def _point(timestamp: datetime, counters: Counters) -> MetricsPoint:
    out, out_failed, out_average, out_p95 = _timed(counters, "out")
    runs, runs_failed, runs_average, runs_p95 = _timed(counters, "run")
    calls, calls_failed, calls_average, calls_p95 = _timed(counters, "call")
    return MetricsPoint(
        timestamp=format_time(timestamp),
        inbound=InboundPoint(
            accepted=counters.get("in_accepted", 0),
            rejected=counters.get("in_rejected", 0),
            duplicate=counters.get("in_duplicate", 0),
        ),
        outbound=OutboundPoint(
            delivered=out, failed=out_failed, average_latency_ms=out_average, p95_latency_ms=out_p95
        ),
        runs=RunsPoint(completed=runs, failed=runs_failed, average_latency_ms=runs_average, p95_latency_ms=runs_p95),
        calls=CallsPoint(
            total=calls + calls_failed, failed=calls_failed, average_latency_ms=calls_average, p95_latency_ms=calls_p95
        ),
    )


def series(tenant_id: str, query: MetricsQuery) -> MetricsSeries:
    """One point per step of the window; hours and days are sums of hour items, minutes sum minute items."""
    start, end = window(query)
    key = None
    if query.connection_id is not None:
        key = record.series_key(tenant_id, record.CONNECTION, query.connection_id)
    elif query.subscription_id is not None:
        key = record.series_key(tenant_id, record.SUBSCRIPTION, query.subscription_id)
    by_hour: dict[str, list[Item]] = {}
    for item in _items(tenant_id, key, start, end - timedelta(microseconds=1)):
        by_hour.setdefault(str(item["hour"]), []).append(item)
    minutes: dict[str, list[Counters]] = {}
    if query.granularity == "minute":
        found = [str(item["seriesKey"]) for items in by_hour.values() for item in items]
        subjects = [key] if key is not None else found
        minutes = _minutes(subjects, start, end - timedelta(microseconds=1))
    step, points, moment = STEPS[query.granularity], [], start
    while moment < end:
        if query.granularity == "minute":
            hour_items = by_hour.get(record.hour_key(moment), [])
            legacy = [_counters(item, moment.minute) for item in hour_items]
            counters = _sum([*legacy, *minutes.get(record.minute_key(moment), [])])
        else:
            hours = [record.hour_key(moment + timedelta(hours=h)) for h in range(int(step / timedelta(hours=1)))]
            counters = _sum(_counters(item) for hour in hours for item in by_hour.get(hour, []))
        points.append(_point(moment, counters))
        moment += step
    return MetricsSeries(
        granularity=query.granularity,
        start=format_time(start),
        end=format_time(end),
        connection_id=query.connection_id,
        subscription_id=query.subscription_id,
        points=points,
        trace_id=current_trace_id(),
    )
