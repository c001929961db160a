"""``ipctl listen``: the platform's live events forwarded to a local URL as signed webhooks.

Like ``stripe listen --forward-to``: a laptop with no public URL receives
what a webhook subscription would send. The listener opens the live
WebSocket (docs/live.md), subscribes, and POSTs each event to the URL signed
with Standard Webhooks (``webhook-id`` is the event id). After a drop it
reconnects with backoff and first replays, from ``GET /events?since=``, what
it missed; a state file remembers where it was and which ids it forwarded,
so a killed and restarted listener replays too, and no event id is
forwarded twice (a kill in the middle of one POST may repeat that one:
receivers dedupe on ``webhook-id`` as they must for any webhook).
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from integration_platform.client import Client
from integration_platform.webhooks import sign, sign_x_signature_256

CONTROL_FRAMES = frozenset({"subscribed", "unsubscribed", "pong", "error", "close"})
# Views of an event, not events: they share its id and the events API cannot replay them.
DERIVED_FRAMES = frozenset({"run.progress", "delivery.attempt"})
KEEP_SEEN = 2000  # ids remembered for dedupe; far more than a replay window holds
MAX_BACKOFF = 30.0
FORWARD_TIMEOUT = 30.0


def now_text() -> str:
    """The platform's timestamp form (``2026-06-11T09:00:00.000Z``), which sorts as time does."""
    moment = datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def ws_url_for(base_url: str) -> str:
    """The local runtime's socket (``ws://host:port/ws``) for its HTTP URL; a deployed stage passes ``--ws-url``."""
    scheme, _, rest = base_url.rstrip("/").partition("://")
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest}/ws"


def default_state_path(*parts: str) -> Path:
    digest = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]
    return Path.home() / ".ipctl" / f"listen-{digest}.json"


@dataclass
class State:
    """Where the listener is: replay from ``since`` (inclusive), skipping the ids in ``seen``."""

    path: Path
    since: str
    seen: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> State:
        try:
            raw = json.loads(path.read_text())
            return cls(path, str(raw["since"]), [str(i) for i in raw.get("seen", [])])
        except (OSError, ValueError, KeyError, TypeError):
            return cls(path, now_text())  # first run: from now on

    def record(self, event_id: str, timestamp: str) -> None:
        self.seen = [*self.seen, event_id][-KEEP_SEEN:]
        self.since = max(self.since, timestamp)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"since": self.since, "seen": self.seen}))
        temporary.replace(self.path)


class AuthRefused(Exception):
    """The socket was refused for its credential (401/403): retrying cannot help."""


@dataclass
class Listener:
    client: Client
    ws_url: str
    state: State
    forward_to: str | None
    secret: str
    events: list[str] = field(default_factory=list)
    connection: str | None = None
    out: TextIO = sys.stdout
    sleep: Callable[[float], None] = time.sleep

    def run(self) -> None:
        """Listen until interrupted; reconnect with backoff after every drop."""
        from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
        from websockets.sync.client import connect

        headers = {k: v for k, v in self.client.transport.headers.items() if k in ("Authorization", "X-API-Key")}
        backoff = 0.5
        while True:
            try:
                with connect(self.ws_url, additional_headers=headers, open_timeout=15, close_timeout=2) as socket:
                    socket.send(json.dumps(self._subscribe_frame()))
                    target = f", forwarding to {self.forward_to}" if self.forward_to else ""
                    self._print(f"Ready! Listening on {self.ws_url}{target}")
                    backoff = 0.5
                    replayed = False
                    for message in socket:
                        frame = json.loads(message)
                        if frame.get("type") == "subscribed" and not replayed:
                            replayed = True
                            self.replay()
                        self.handle(frame)
            except InvalidStatus as refused:
                if refused.response.status_code in (401, 403):
                    raise AuthRefused(f"the socket was refused ({refused.response.status_code})") from refused
                self._print(f"Connection refused ({refused.response.status_code}); retrying in {backoff:.1f}s")
            except (OSError, ConnectionClosed, InvalidHandshake, TimeoutError) as dropped:
                self._print(f"Disconnected ({type(dropped).__name__}); reconnecting in {backoff:.1f}s")
            self.sleep(backoff * random.uniform(0.8, 1.2))
            backoff = min(backoff * 2, MAX_BACKOFF)

    def _subscribe_frame(self) -> dict[str, Any]:
        frame: dict[str, Any] = {"action": "subscribe", "id": "listen", "events": self.events}
        if self.connection:
            frame["filters"] = {"connectionId": self.connection}
        return frame

    def replay(self) -> None:
        """Forward what was recorded since the state's time and not yet forwarded (the API's view, oldest first)."""
        for event in self.client.iter_events(self.state.since, page_size=100):
            if self._wanted(event["type"], event["data"]):
                self.deliver(event["eventId"], event["type"], event["timestamp"], event["data"])

    def handle(self, frame: Mapping[str, Any]) -> None:
        frame_type = str(frame.get("type"))
        if frame_type == "error":
            self._print(f"Error from the platform: {json.dumps(frame.get('data'))}")
        if frame_type in CONTROL_FRAMES or frame_type in DERIVED_FRAMES:
            return
        self.deliver(str(frame["id"]), frame_type, str(frame["time"]), frame.get("data") or {})

    def _wanted(self, event_type: str, data: Mapping[str, Any]) -> bool:
        if self.events and event_type not in self.events:
            return False
        return self.connection is None or data.get("connectionId") == self.connection

    def deliver(self, event_id: str, event_type: str, timestamp: str, data: Mapping[str, Any]) -> None:
        """Forward (or print) one event, once per id."""
        if event_id in self.state.seen:
            return
        event = {"id": event_id, "type": event_type, "timestamp": timestamp, "data": data}
        if self.forward_to is None:
            self._print(json.dumps(event))
        else:
            status, millis = self.forward(event)
            self._print(f"{timestamp}  {event_type}  {event_id}  -> {status}  {millis} ms")
        self.state.record(event_id, timestamp)

    def forward(self, event: Mapping[str, Any]) -> tuple[str, int]:
        """POST the event as a webhook would carry it; the receiver's status (or why none) and the latency."""
        body = json.dumps(event, separators=(",", ":")).encode()
        stamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "ipctl-listen",
            "webhook-id": str(event["id"]),
            "webhook-timestamp": str(stamp),
            "webhook-signature": sign(body, str(event["id"]), stamp, self.secret),
            "X-Signature-256": sign_x_signature_256(body, self.secret),  # as the platform's own webhooks carry
        }
        request = urllib.request.Request(self.forward_to or "", data=body, headers=headers, method="POST")
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=FORWARD_TIMEOUT) as response:
                status = str(response.status)
        except urllib.error.HTTPError as error:
            status = str(error.code)
        except (OSError, ValueError) as error:
            status = f"failed ({error})"
        return status, int((time.monotonic() - started) * 1000)

    def _print(self, line: str) -> None:
        print(line, file=self.out, flush=True)
