"""The buckets themselves: one write per (series, hour), minute counters, percentiles, windows, old health checks."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.connections import store as connections
from chalicelib.core.errors import ValidationFailed
from chalicelib.stats import read, record
from chalicelib.stats.models import MetricsQuery
from tests.support.api_client import ApiClient
from tests.support.fake_vendor import FakeVendor
from tests.support.run_driver import connect


def test_a_batch_sums_its_observations_into_one_write_per_series_and_hour(
    tenant: str, stats_writes: list[dict[str, Any]]
) -> None:
    at = datetime(2026, 3, 1, 10, 7, tzinfo=UTC)
    with record.collecting():
        for ok, latency in ((True, 120), (True, 80), (False, 3000)):
            record.record(record.Observation(tenant, record.SUBSCRIPTION, "sub-1", at).timed("out", ok, latency))
        record.record(record.Observation(tenant, record.SUBSCRIPTION, "sub-2", at).timed("out", True, 10))
        record.record(record.Observation(tenant, record.SUBSCRIPTION, "sub-1", at + timedelta(hours=1)))
        assert stats_writes == []  # nothing is written before the batch ends
    assert sorted((w["Key"]["seriesKey"]["S"], w["Key"]["hour"]["S"]) for w in stats_writes) == [
        (f"{tenant}#s#sub-1", "2026-03-01T10"),
        (f"{tenant}#s#sub-1#m", "2026-03-01T10:07"),
        (f"{tenant}#s#sub-2", "2026-03-01T10"),
        (f"{tenant}#s#sub-2#m", "2026-03-01T10:07"),
    ]  # an observation that counted nothing writes nothing
    hour_item = next(w for w in stats_writes if w["Key"]["seriesKey"]["S"] == f"{tenant}#s#sub-1")
    assert not any(name.startswith("m") for name in hour_item["ExpressionAttributeNames"].values())
    query = MetricsQuery.model_validate(
        {
            "subscriptionId": "sub-1",
            "granularity": "minute",
            "from": "2026-03-01T10:06:00Z",
            "to": "2026-03-01T10:09:00Z",
        }
    )
    points = read.series(tenant, query).points
    assert [(p.timestamp, p.outbound.delivered, p.outbound.failed) for p in points] == [
        ("2026-03-01T10:06:00.000Z", 0, 0),
        ("2026-03-01T10:07:00.000Z", 2, 1),
        ("2026-03-01T10:08:00.000Z", 0, 0),
    ]
    assert points[1].outbound.average_latency_ms == 1067 and points[1].outbound.p95_latency_ms is None
    hourly = read.series(tenant, query.model_copy(update={"granularity": "hour"})).points
    assert [(p.outbound.delivered, p.outbound.failed, p.outbound.p95_latency_ms) for p in hourly] == [(2, 1, 4625)]


def test_amortized_counts_write_a_series_at_once_then_at_most_once_per_interval(
    tenant: str, stats_writes: list[dict[str, Any]]
) -> None:
    held = record.Amortized(interval=5.0)
    at = datetime(2026, 3, 1, 10, 7, tzinfo=UTC)

    def add(connection_id: str, now: float) -> None:
        held.add(record.Observation(tenant, record.CONNECTION, connection_id, at).inbound("rejected"), now=now)

    def hour_writes() -> list[tuple[str, str]]:
        hours = [w for w in stats_writes if not w["Key"]["seriesKey"]["S"].endswith("#m")]
        return [(w["Key"]["seriesKey"]["S"], w["ExpressionAttributeValues"][":a0"]["N"]) for w in hours]

    add("conn-a", 1000.0)
    for step in range(1, 6):
        add("conn-a", 1000.0 + step * 0.5)  # within the interval: summed, not written
    add("conn-b", 1003.0)  # another series has its own interval
    add("conn-a", 1006.0)  # the interval has passed: one write with all that was held
    assert hour_writes() == [(f"{tenant}#c#conn-a", "1"), (f"{tenant}#c#conn-b", "1"), (f"{tenant}#c#conn-a", "6")]
    add("conn-b", 1004.0)  # held: nothing else comes for conn-b
    held.flush_due(now=1009.0)  # the end of a later invocation, past conn-b's interval, writes it
    held.flush_due(now=1020.0)  # nothing is held any more: no write, and conn-b is forgotten
    add("conn-b", 1021.0)  # a quiet series' next count goes at once
    assert hour_writes()[3:] == [(f"{tenant}#c#conn-b", "1"), (f"{tenant}#c#conn-b", "1")]
    assert len(stats_writes) == 2 * 5  # each hour write with its one minute item


def test_a_failed_write_is_held_and_goes_with_the_next_flush(
    tenant: str, stats_writes: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    held = record.Amortized(interval=5.0)
    monkeypatch.setattr(record, "HELD", held)
    at = datetime(2026, 3, 1, 11, 0, tzinfo=UTC)
    failing = [True]
    real_update = record._update

    def update(partition: str, sort: str, counters: dict[str, int], sets: dict[str, dict[str, str]]) -> bool:
        if failing[0] or partition.endswith("#m"):
            return False  # what a throttled table does: nothing written
        return real_update(partition, sort, counters, sets)

    monkeypatch.setattr(record, "_update", update)
    base = time.monotonic() + 100  # the container's clock, past the interval the failed write is held for
    record.record(record.Observation(tenant, record.CONNECTION, "conn-f", at).timed("call", True, 40))
    held.add(record.Observation(tenant, record.CONNECTION, "conn-f", at).timed("call", False, 60), now=base)
    failing[0] = False
    held.flush_due(now=base + 10)  # the hour item goes; the minute item fails again and stays held
    monkeypatch.setattr(record, "_update", real_update)
    held.flush_due(now=base + 20)
    query = {"connectionId": "conn-f", "from": "2026-03-01T11:00:00Z", "to": "2026-03-01T11:02:00Z"}
    for granularity in ("minute", "hour"):
        points = read.series(tenant, MetricsQuery.model_validate({**query, "granularity": granularity})).points
        assert sum(p.calls.total for p in points) == 2 and sum(p.calls.failed for p in points) == 1, granularity
    written = len(stats_writes)
    held.flush_due(now=base + 40)
    assert len(stats_writes) == written  # nothing was left held


def test_percentiles_interpolate_inside_the_bucket() -> None:
    ten_between_100_and_250 = {"out_h2": 10}
    assert read.percentile(ten_between_100_and_250, "out", 0.5) == 175
    assert read.percentile({"out_h0": 19, "out_h9": 1}, "out", 0.95) == 50
    assert read.percentile({"out_h0": 1, "out_h9": 1}, "out", 0.95) == 30000  # slower than every bound: "at least"
    assert read.percentile({}, "out", 0.5) is None


def test_windows_are_floored_and_bounded() -> None:
    query = MetricsQuery.model_validate({"from": "2026-03-01T10:17:00Z", "to": "2026-03-02T10:17:00Z"})
    assert read.window(query) == (datetime(2026, 3, 1, 10, tzinfo=UTC), datetime(2026, 3, 2, 10, 17, tzinfo=UTC))
    days = MetricsQuery.model_validate({"granularity": "day", "to": "2026-03-02T10:17:00Z"})
    assert read.window(days)[0] == datetime(2026, 1, 31, tzinfo=UTC)
    with pytest.raises(ValidationFailed, match="at most 1440"):
        read.window(
            MetricsQuery.model_validate(
                {"granularity": "minute", "from": "2026-03-01T00:00:00Z", "to": "2026-03-02T00:00:01Z"}
            )
        )


def test_checks_recorded_in_the_old_map_shape_read_as_the_list(
    client: ApiClient, tenant: str, vendor: FakeVendor
) -> None:
    connection_id = connect(client, vendor.url)
    old = {"connection": {"status": "Pass", "message": "ok"}, "authentication": {"status": "Skipped", "message": "-"}}
    connections.TABLE.update(tenant, connection_id, {"healthChecks": old, "lastCheckedAt": "2026-01-01T00:00:00Z"})
    health = client.get(f"/integrations/connections/{connection_id}/health").json
    assert health["checks"] == [
        {"name": "connection", "status": "passed", "message": "ok"},
        {"name": "authentication", "status": "warning", "message": "-"},
        {
            "name": "circuitBreaker",
            "status": "passed",
            "message": "Closed: calls reach the vendor (0 consecutive vendor failures).",
        },
    ]
    assert health["lastCheck"] == "2026-01-01T00:00:00.000Z" and health["metrics"] == {"totalCalls24h": 0}


def test_the_tenant_series_reads_every_hour_item_through_its_keys_only_index(tenant: str) -> None:
    """Over 100 hour items: the keys-only index names them, and the batched reads get every one back."""
    first = datetime(2026, 3, 1, tzinfo=UTC)
    with record.collecting():
        for hour in range(60):
            for subscription in ("sub-1", "sub-2", "sub-3"):
                at = first + timedelta(hours=hour)
                record.record(record.Observation(tenant, record.SUBSCRIPTION, subscription, at).timed("out", True, 5))
    query = MetricsQuery.model_validate(
        {"granularity": "day", "from": "2026-03-01T00:00:00Z", "to": "2026-03-04T00:00:00Z"}
    )
    delivered = [point.outbound.delivered for point in read.series(tenant, query).points]
    assert delivered == [72, 72, 36]  # 3 subscriptions x 24 hours, then 12 hours of the third day
    other = read.series("tenant-someone-else", query)
    assert [point.outbound.delivered for point in other.points] == [0, 0, 0]


def test_tallies_from_many_threads_are_all_counted(local_api: object, tenant: str) -> None:
    """The dispatcher's pool (and a threaded local server) tally at once: every count reaches the items."""
    held = record.Amortized(interval=0.0)  # every tally is due: writes race with additions
    at = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)

    def hammer(thread: int) -> None:
        for n in range(25):
            observation = record.Observation(tenant, record.SUBSCRIPTION, "sub-t", at)
            held.add(observation.timed("out", n % 5 != 0, 10 * thread), now=1000.0 + n)

    threads = [threading.Thread(target=hammer, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    held.flush_due(now=2000.0)
    query = {"subscriptionId": "sub-t", "from": "2026-03-01T12:30:00Z", "to": "2026-03-01T12:31:00Z"}
    for granularity in ("minute", "hour"):
        [point] = read.series(tenant, MetricsQuery.model_validate({**query, "granularity": granularity})).points
        assert (point.outbound.delivered, point.outbound.failed) == (160, 40), granularity


def test_a_busy_series_batches_are_written_once_per_interval(
    tenant: str, stats_writes: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A quiet series' batch is written when it ends; the next batches within the interval wait for it to pass."""
    held = record.Amortized(interval=3600.0)
    monkeypatch.setattr(record, "HELD", held)
    at = datetime(2026, 3, 1, 13, 5, tzinfo=UTC)
    for _ in range(3):
        with record.collecting():
            for ok in (True, True, False):
                record.record(record.Observation(tenant, record.SUBSCRIPTION, "sub-b", at).timed("out", ok, 20))
    assert len(stats_writes) == 2  # the first batch's hour and minute items; the other two are held
    held.flush_due(now=time.monotonic() + 3600)
    assert len(stats_writes) == 4
    query = {"subscriptionId": "sub-b", "from": "2026-03-01T13:05:00Z", "to": "2026-03-01T13:06:00Z"}
    for granularity in ("minute", "hour"):
        [point] = read.series(tenant, MetricsQuery.model_validate({**query, "granularity": granularity})).points
        assert (point.outbound.delivered, point.outbound.failed) == (6, 3), granularity
