"""``ipctl listen``'s pieces without a platform: signing, the state file, which frames are forwarded."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

from integration_platform.client import Client
from integration_platform.listen import Listener, State, ws_url_for
from integration_platform.webhooks import new_secret, sign
from standardwebhooks import Webhook


def test_a_signature_standardwebhooks_verifies() -> None:
    secret, body, stamp = new_secret(), b'{"id":"evt-1"}', int(time.time())
    headers = {
        "webhook-id": "evt-1",
        "webhook-timestamp": str(stamp),
        "webhook-signature": sign(body, "evt-1", stamp, secret),
    }
    assert Webhook(secret).verify(body, headers) == {"id": "evt-1"}


def test_the_socket_url_follows_the_platform_url() -> None:
    assert ws_url_for("http://127.0.0.1:8000/") == "ws://127.0.0.1:8000/ws"
    assert ws_url_for("https://api.example.com") == "wss://api.example.com/ws"


def test_the_state_survives_a_restart_and_starts_from_now_when_absent(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    fresh = State.load(path)
    assert fresh.seen == [] and fresh.since.endswith("Z")
    fresh.record("evt-1", "2999-01-01T00:00:00.000Z")
    fresh.record("evt-0", "2000-01-01T00:00:00.000Z")  # an older one does not move the replay point back
    again = State.load(path)
    assert (again.since, again.seen) == ("2999-01-01T00:00:00.000Z", ["evt-1", "evt-0"])
    path.write_text("not json")
    assert State.load(path).seen == []


def printed_listener(tmp_path: Path, events: list[str], connection: str | None = None) -> tuple[Listener, io.StringIO]:
    out = io.StringIO()
    state = State(tmp_path / "state.json", "2000-01-01T00:00:00.000Z")
    client = Client("http://127.0.0.1:9")
    return Listener(client, "ws://127.0.0.1:9/ws", state, None, new_secret(), events, connection, out=out), out


def frame(event_id: str, frame_type: str, **data: Any) -> dict[str, Any]:
    at = "2026-12-07T00:00:00.000Z"
    return {"type": frame_type, "id": event_id, "time": at, "subscription": "listen", "data": data}


def test_each_event_id_is_printed_once_and_control_frames_never(tmp_path: Path) -> None:
    listener, out = printed_listener(tmp_path, [])
    for sent in (
        {"type": "subscribed", "data": {"id": "listen"}},
        frame("evt-1", "RunCompleted", runId="run-1"),
        frame("evt-1", "run.progress", runId="run-1", progress=100),  # a view of the event, not an event
        frame("evt-1", "delivery.attempt", subscriptionId="sub-1", attempt=1),
        frame("evt-1", "RunCompleted", runId="run-1"),  # a repeat (a stream retry, or replay and push both)
        {"type": "pong", "data": {}},
    ):
        listener.handle(sent)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 and '"id": "evt-1"' in lines[0] and '"type": "RunCompleted"' in lines[0]


def test_replayed_events_are_filtered_as_the_subscription_is(tmp_path: Path) -> None:
    listener, _ = printed_listener(tmp_path, ["OrderShipped"], connection="conn-1")
    assert listener._subscribe_frame() == {
        "action": "subscribe",
        "id": "listen",
        "events": ["OrderShipped"],
        "filters": {"connectionId": "conn-1"},
    }
    assert listener._wanted("OrderShipped", {"connectionId": "conn-1"})
    assert not listener._wanted("OrderShipped", {"connectionId": "conn-2"})
    assert not listener._wanted("OrderPacked", {"connectionId": "conn-1"})
