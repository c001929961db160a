"""Local EventBridge schedules with a real Chalice app, periods scaled down."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from chalice.app import Chalice, CloudWatchEvent, Cron, Rate

from infra.local.scheduler import discover_schedules, rate_seconds
from tests.support.waiting import poll


@pytest.mark.parametrize(
    ("expression", "seconds"),
    [("rate(1 minute)", 60), ("rate(5 minutes)", 300), ("rate(1 hour)", 3600), ("rate(2 days)", 172800)],
)
def test_rate_expressions(expression: str, seconds: int) -> None:
    assert rate_seconds(expression) == seconds


def test_cron_is_recognised_and_nonsense_rejected() -> None:
    assert rate_seconds("cron(0 12 * * ? *)") is None
    for bad in ("rate(0 minutes)", "rate(5 weeks)", "every hour", "rate(-1 minute)"):
        with pytest.raises(ValueError):
            rate_seconds(bad)


def test_schedules_fire_on_their_scaled_rate_with_scheduled_events() -> None:
    app = Chalice(app_name="schedule-test")
    fired: dict[str, list[CloudWatchEvent]] = {"every_minute": [], "every_two": []}

    @app.schedule("rate(1 minute)")
    def every_minute(event: CloudWatchEvent) -> None:
        fired["every_minute"].append(event)

    @app.schedule(Rate(2, unit=Rate.MINUTES))
    def every_two(event: CloudWatchEvent) -> None:
        fired["every_two"].append(event)
        raise RuntimeError("a failing run must not stop the schedule")

    @app.schedule(Cron(0, 12, "*", "*", "?", "*"))
    def at_noon(event: CloudWatchEvent) -> None:
        raise AssertionError("cron schedules are not run locally")

    scheduler = discover_schedules(app, "test", "us-east-1", scale=0.002)  # a minute is 0.12 s
    assert [(s.function.name, s.period) for s in scheduler.schedules] == [("every_minute", 0.12), ("every_two", 0.24)]
    assert scheduler.unsupported == ["at_noon cron(0 12 * * ? *)"]

    stop = threading.Event()
    thread = threading.Thread(target=scheduler.run, args=(stop,), daemon=True)
    thread.start()
    poll(
        lambda: len(fired["every_minute"]) >= 4 and len(fired["every_two"]) >= 2,
        "four and two firings of the scaled schedules",
        interval=0.02,
    )
    stop.set()
    poll(lambda: not thread.is_alive(), "the scheduler thread to stop", interval=0.02)

    assert len(fired["every_minute"]) >= 4
    assert len(fired["every_two"]) >= 2
    assert len(fired["every_minute"]) > len(fired["every_two"])
    event: Any = fired["every_minute"][0]
    assert (event.detail_type, event.source, event.region, event.detail) == (
        "Scheduled Event",
        "aws.events",
        "us-east-1",
        {},
    )
    assert event.resources == ["arn:aws:events:us-east-1:123456789012:rule/schedule-test-test-every_minute"]
    assert event.context.function_name == "schedule-test-test-every_minute"
    assert len({e.event_id for e in fired["every_minute"]}) == len(fired["every_minute"])


def test_scale_must_be_positive() -> None:
    with pytest.raises(ValueError, match="LOCAL_SCHEDULE_SCALE"):
        discover_schedules(Chalice(app_name="schedule-test"), "test", "us-east-1", scale=0)
