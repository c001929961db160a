"""A live WebSocket client for tests: the ``websockets`` library, frames collected as they come."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.support.waiting import poll

Frame = dict[str, Any]


class LiveSocket:
    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        self.connection: ClientConnection = connect(url, additional_headers=headers, open_timeout=30)
        self.seen: list[Frame] = []
        self.closed = False

    def send(self, frame: Frame | str) -> None:
        self.connection.send(frame if isinstance(frame, str) else json.dumps(frame))

    def drain(self) -> list[Frame]:
        """What arrived so far (never waits)."""
        while not self.closed:
            try:
                message = self.connection.recv(timeout=0)
            except TimeoutError:
                break
            except ConnectionClosed:
                self.closed = True
                break
            self.seen.append(json.loads(message))
        return self.seen

    def wait_for(self, match: Callable[[Frame], bool], what: str) -> Frame:
        def found() -> Frame | None:
            return next((frame for frame in self.drain() if match(frame)), None)

        frame: Frame = poll(found, what, explain=lambda: f"frames seen: {self.seen!r}")
        return frame

    def subscribe(self, **fields: Any) -> Frame:
        self.send({"action": "subscribe", **fields})
        wanted = fields.get("id", "default")
        return self.wait_for(lambda f: f["type"] == "subscribed" and f["data"]["id"] == wanted, "the subscription")

    def round_trip(self) -> None:
        """A ping answered: every frame posted before it has arrived (one socket's frames keep their order)."""
        before = self.pongs()
        self.send({"action": "ping"})
        poll(lambda: self.drain() is not None and self.pongs() > before, "pong", explain=lambda: repr(self.seen))

    def pongs(self) -> int:
        return sum(1 for frame in self.seen if frame["type"] == "pong")

    def close(self) -> None:
        self.connection.close()
