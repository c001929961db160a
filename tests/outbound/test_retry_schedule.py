"""The default retry schedule, its jitter, and ``Retry-After`` in both forms."""

from __future__ import annotations

from email.utils import formatdate
from time import time

from chalicelib.core.http import retry_after
from chalicelib.outbound.config import DEFAULT_SCHEDULE, get_outbound_settings
from chalicelib.outbound.retry import next_delay


def test_default_schedule_has_seven_retries_with_twenty_percent_jitter() -> None:
    get_outbound_settings.cache_clear()
    expected = [5, 300, 1800, 7200, 18000, 36000, 36000]
    assert [float(v) for v in DEFAULT_SCHEDULE.split(",")] == expected
    assert get_outbound_settings().max_attempts == 8
    for attempt, base in enumerate(expected, start=1):
        delays = [next_delay(attempt, 500, None) for _ in range(50)]
        assert all(d is not None and base * 0.8 <= d <= base * 1.2 for d in delays)
        assert len(set(delays)) > 1, "jittered"
    assert next_delay(8, 500, None) is None


def test_retry_after_only_lengthens_the_wait_for_the_statuses_that_send_it() -> None:
    get_outbound_settings.cache_clear()
    delay = next_delay(1, 503, 600.0)
    assert delay is not None and delay >= 600
    no_header = next_delay(1, 500, 600.0)
    assert no_header is not None and no_header < 10
    assert retry_after("120") == 120
    from_date = retry_after(formatdate(time() + 90, usegmt=True))
    assert from_date is not None and 80 <= from_date <= 91
    assert retry_after("soon") is None
