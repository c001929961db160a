"""The token bucket and circuit breaker on their DynamoDB item (moto), with explicit clocks."""

from __future__ import annotations

import pytest

from chalicelib.core.ids import new_id
from chalicelib.protection import breaker, bucket, state
from chalicelib.protection.breaker import BreakerState
from chalicelib.protection.bucket import RateLimit
from tests.support.run_driver import settings

T0 = 1_800_000_000.0


@pytest.fixture
def ids(local_api: object) -> tuple[str, str]:
    return new_id("tenant"), new_id("conn")


def test_the_bucket_allows_the_burst_then_says_how_long_to_wait(ids: tuple[str, str]) -> None:
    limit = RateLimit(requests_per_second=2.0, burst=3)
    taken = [bucket.take(*ids, limit, T0) for _ in range(4)]
    assert [t.wait for t in taken[:3]] == [0.0, 0.0, 0.0]
    assert taken[3].wait == pytest.approx(0.5)  # the 4th token is due 1/r after the 3rd
    assert bucket.take(*ids, limit, T0 + 0.5).wait == 0.0
    assert bucket.take(*ids, limit, T0 + 0.5).wait == pytest.approx(0.5)


def test_the_bucket_costs_one_call_and_one_more_when_another_worker_moved_it(ids: tuple[str, str]) -> None:
    limit = RateLimit(requests_per_second=10.0, burst=5)
    first = bucket.take(*ids, limit, T0)  # a new bucket
    busy = [bucket.take(*ids, limit, T0 + 0.01 * i).calls for i in range(1, 4)]  # faster than the rate
    idle = bucket.take(*ids, limit, T0 + 60)  # slower than the rate: this worker saw tat pass
    bucket._last_tat.clear()  # a worker that has never seen this bucket, which is busy
    other = bucket.take(*ids, limit, T0 + 60.01)
    assert (first.calls, busy, idle.calls, other.calls) == (1, [1, 1, 1], 1, 2)
    assert (idle.wait, other.wait) == (0.0, 0.0)


def test_the_bucket_never_lets_more_than_the_rate_through_across_workers(ids: tuple[str, str]) -> None:
    """Two processes' hints disagree (one thinks idle, one busy): the conditions still hold the line."""
    limit = RateLimit(requests_per_second=1.0, burst=2)
    allowed = 0
    for step in range(20):
        if step % 2:
            bucket._last_tat.clear()  # a second worker with no memory of the bucket
        allowed += bucket.take(*ids, limit, T0 + step * 0.25).wait == 0.0
    assert allowed <= 2 + 5  # burst + 5 s x 1/s


def test_the_breaker_opens_after_consecutive_failures_half_opens_and_closes(ids: tuple[str, str]) -> None:
    with settings(BREAKER_FAILURE_THRESHOLD="3", BREAKER_COOLDOWN_SECONDS="30"):
        assert [breaker.failed(*ids, T0) for _ in range(3)][-1] == BreakerState.OPEN
        item = state.read(*ids)
        assert breaker.admit(*ids, item, T0 + 1) == breaker.Verdict(False, BreakerState.OPEN, retry_in=29.0)
        assert breaker.health_check(*ids, T0 + 1)["status"] == "failed"
        probe = breaker.admit(*ids, item, T0 + 31)
        other = breaker.admit(*ids, item, T0 + 31)
        assert (probe.allowed, probe.probe, other.allowed) == (True, True, False)  # one probe only
        assert breaker.health_check(*ids, T0 + 31)["status"] == "warning"
        breaker.succeeded(*ids, state.read(*ids))
        assert breaker.state_of(state.read(*ids), T0 + 32) == BreakerState.CLOSED
        assert breaker.health_check(*ids, T0 + 32) == {
            "name": "circuitBreaker",
            "status": "passed",
            "state": "Closed",
            "consecutiveFailures": 0,
            "message": "Closed: calls reach the vendor (0 consecutive vendor failures).",
        }


def test_a_failed_probe_reopens_for_another_cool_down(ids: tuple[str, str]) -> None:
    with settings(BREAKER_FAILURE_THRESHOLD="2", BREAKER_COOLDOWN_SECONDS="10"):
        breaker.failed(*ids, T0)
        breaker.failed(*ids, T0)
        assert breaker.admit(*ids, state.read(*ids), T0 + 11).probe
        assert breaker.failed(*ids, T0 + 12) == BreakerState.OPEN
        assert state.read(*ids)["openUntil"] == pytest.approx(T0 + 22)
