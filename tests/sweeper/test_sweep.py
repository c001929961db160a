"""The schedule: registered in app.py, run by the local runtime's scheduler, bounded per shard."""

from __future__ import annotations

from infra.local.scheduler import discover_schedules


def test_the_local_runtime_runs_the_inflight_sweep_every_minute(local_api: object) -> None:
    from app import app

    scheduler = discover_schedules(app, "test", "us-east-1")
    assert ("inflight_sweep", "rate(1 minute)", 60) in [
        (s.function.name, s.expression, s.period) for s in scheduler.schedules
    ]
