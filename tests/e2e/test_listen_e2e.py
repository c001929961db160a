"""``ipctl listen --forward-to``: live events forwarded, signed, to a local receiver; a restart replays the gap."""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.e2e.conftest import PROJECT_DIR, LocalRuntime
from tests.support.receiver import Receiver, serve_receiver
from tests.support.waiting import poll


class ListenProcess:
    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, pattern: str) -> re.Match[str]:
        def found() -> re.Match[str] | None:
            return next((m for line in list(self.lines) if (m := re.search(pattern, line))), None)

        match: re.Match[str] = poll(found, f"ipctl listen printing {pattern!r}", explain=lambda: "\n".join(self.lines))
        return match


@contextmanager
def listen(runtime: LocalRuntime, token: str, receiver: Receiver, state: Path, *extra: str) -> Iterator[ListenProcess]:
    env = {
        **os.environ,
        "IPCTL_URL": runtime.base_url,
        "IPCTL_TOKEN": token,
        "PYTHONPATH": str(PROJECT_DIR / "sdk" / "python"),
        "PYTHONUNBUFFERED": "1",
    }
    command = [sys.executable, "-m", "integration_platform.cli", "listen", "--forward-to", receiver.url]
    process = subprocess.Popen(
        [*command, "--state", str(state), *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield ListenProcess(process)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait(30)


def publish(runtime: LocalRuntime, token: str, n: int) -> str:
    reply = runtime.request("POST", "/events", token=token, json_body={"type": "OrderShipped", "data": {"n": n}})
    assert reply.status == 201, reply.body
    return str(reply.json["eventId"])


def test_listen_forwards_a_signed_event_that_standardwebhooks_verifies(
    local_runtime: LocalRuntime, tmp_path: Path
) -> None:
    token = local_runtime.token(f"tenant-{secrets.token_hex(4)}")
    with serve_receiver() as receiver, listen(local_runtime, token, receiver, tmp_path / "state.json") as listener:
        receiver.trust(listener.wait_for(r"^Signing secret: (whsec_\S+)$").group(1))
        listener.wait_for(r"^Ready! Listening on ws://")
        event_id = publish(local_runtime, token, 1)
        lines = listener.lines
        poll(lambda: event_id in receiver.accepted_ids, "the forwarded event", explain=lambda: "\n".join(lines))
        listener.wait_for(rf"OrderShipped  {event_id}  -> 200  \d+ ms$")
    assert receiver.verification_errors == []
    [received] = receiver.received
    assert received.body == {
        "id": event_id,
        "type": "OrderShipped",
        "timestamp": received.body["timestamp"],
        "data": {"n": 1},
    }


def test_a_killed_and_restarted_listener_replays_what_it_missed_once(
    local_runtime: LocalRuntime, tmp_path: Path
) -> None:
    token = local_runtime.token(f"tenant-{secrets.token_hex(4)}")
    state, secret = tmp_path / "state.json", "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    with serve_receiver() as receiver:
        receiver.trust(secret)
        with listen(local_runtime, token, receiver, state, "--secret", secret) as first:
            first.wait_for(r"^Ready!")
            before = publish(local_runtime, token, 1)
            poll(lambda: before in receiver.accepted_ids, "the first event", explain=lambda: "\n".join(first.lines))
        # Killed (SIGKILL on leaving): these are recorded while no listener is connected.
        missed = {publish(local_runtime, token, n) for n in (2, 3)}
        with listen(local_runtime, token, receiver, state, "--secret", secret) as second:
            poll(lambda: missed <= receiver.accepted_ids, "the replay", explain=lambda: "\n".join(second.lines))
            after = publish(local_runtime, token, 4)
            poll(lambda: after in receiver.accepted_ids, "the live event", explain=lambda: "\n".join(second.lines))
            second.process.send_signal(signal.SIGINT)
    assert receiver.verification_errors == []
    forwarded = Counter(r.message_id for r in receiver.received)
    assert forwarded == Counter({before: 1, **dict.fromkeys(missed, 1), after: 1})
