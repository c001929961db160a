"""Which frames an event makes: its own type, run progress, filters, and an event too large to push."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.events.models import PlatformEvent
from chalicelib.live import matching
from chalicelib.live.frames import Filters, Subscription


def event(event_type: str, data: dict[str, Any]) -> PlatformEvent:
    return PlatformEvent(
        event_id="evt-1", tenant_id="t", type=event_type, source="runs", timestamp="2026-12-07T00:00:00Z", data=data
    )


def types(found: list[bytes]) -> list[tuple[str, str]]:
    return [(frame["type"], frame["subscription"]) for frame in map(json.loads, found)]


def test_a_run_event_is_also_run_progress() -> None:
    completed = event("RunCompleted", {"runId": "run-1", "connectionId": "conn-1", "status": "Completed"})
    everything = Subscription(id="all")
    progress = Subscription(id="p", events=["run.progress"])
    found = matching.frames_for(completed, [everything, progress])
    assert types(found) == [("RunCompleted", "all"), ("run.progress", "all"), ("run.progress", "p")]
    assert json.loads(found[-1])["data"] == {
        "runId": "run-1",
        "connectionId": "conn-1",
        "status": "Completed",
        "progress": 100,
    }


def test_filters_must_all_match_the_events_data() -> None:
    run = event("RunStarted", {"runId": "run-1", "connectionId": "conn-1"})
    subscriptions = [
        Subscription(id="conn", filters=Filters(connection_id="conn-1")),
        Subscription(id="both", filters=Filters(connection_id="conn-1", run_id="run-2")),
        Subscription(id="sub", filters=Filters(subscription_id="sub-1")),  # the event has no subscriptionId
    ]
    assert types(matching.frames_for(run, subscriptions)) == [("RunStarted", "conn"), ("run.progress", "conn")]


def test_an_event_too_large_to_push_goes_without_its_data() -> None:
    large = event("OrderShipped", {"blob": "x" * matching.MAX_PUSH_BYTES})
    [frame] = matching.frames_for(large, [Subscription(id="s")])
    assert json.loads(frame) == {
        "type": "OrderShipped",
        "id": "evt-1",
        "time": "2026-12-07T00:00:00.000Z",
        "subscription": "s",
        "data": {},
        "dataOmitted": True,
    }
