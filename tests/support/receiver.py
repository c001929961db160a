"""A real webhook receiver on 127.0.0.1 that verifies every message it gets.

Each request is checked twice and independently: with the ``standardwebhooks``
library against every secret in ``secrets`` (during a rotation overlap both the
old and the new one must verify) and by recomputing ``X-Signature-256`` with
``current_secret``. A ``v1a`` receiver (``trust_keys``) instead checks that
every ``v1a`` signature verifies, with PyNaCl (libsodium: an implementation
independent of the platform's ``cryptography``), under one of its public keys,
and that no shared-secret header is sent. A failed check is recorded in ``verification_errors`` and
answered 400. Faults are drawn from a seeded random generator so a run is
repeatable: a fraction of requests fail with 500, some hang past the client
timeout, and a fixed status (410, or 429 with ``Retry-After``) or a delay can
be imposed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey
from standardwebhooks import Webhook


@dataclass
class Behaviour:
    fail_ratio: float = 0.0
    hang_ratio: float = 0.0
    hang_seconds: float = 1.0
    delay_seconds: float = 0.0
    status: int | None = None
    retry_after: str | None = None
    # webhook-id or event type -> how many of its first deliveries to answer 500 (ordered-delivery tests).
    fail_first: dict[str, int] = field(default_factory=dict)


@dataclass
class Received:
    message_id: str
    body: Any  # a transformed body may be any JSON value
    headers: dict[str, str]
    answered: int
    hung: bool = False
    raw: bytes = b""

    @property
    def ok(self) -> bool:
        """Answered 2xx in time, so the platform saw a success."""
        return 200 <= self.answered < 300 and not self.hung


@dataclass
class Receiver:
    behaviour: Behaviour = field(default_factory=Behaviour)
    secrets: list[str] = field(default_factory=list)
    current_secret: str = ""
    public_keys: list[str] = field(default_factory=list)
    seed: int = 7
    url: str = ""
    received: list[Received] = field(default_factory=list)
    verification_errors: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def trust(self, *secrets: str) -> None:
        """Verify with all of ``secrets``; the last one is the current ``X-Signature-256`` key."""
        self.secrets = list(secrets)
        self.current_secret = secrets[-1]

    def trust_keys(self, *public_keys: str) -> None:
        """Verify ``v1a`` signatures with these ``whpk_`` keys: each signature must verify under one of them."""
        self.public_keys = list(public_keys)

    def verify_v1a(self, raw: bytes, headers: dict[str, str]) -> str | None:
        signed = f"{headers.get('webhook-id')}.{headers.get('webhook-timestamp')}.".encode() + raw
        keys = [VerifyKey(base64.b64decode(k.removeprefix("whpk_"))) for k in self.public_keys]
        signatures = headers.get("webhook-signature", "").split(" ")
        for entry in signatures:
            scheme, _, value = entry.partition(",")
            if scheme != "v1a":
                return f"unexpected signature scheme {scheme!r}"
            if not any(_verifies(key, signed, base64.b64decode(value)) for key in keys):
                return "a v1a signature verifies under none of the public keys"
        if "x-signature-256" in headers:
            return "a v1a delivery carried a shared-secret X-Signature-256"
        return None

    @property
    def accepted_ids(self) -> set[str]:
        with self._lock:
            return {r.message_id for r in self.received if r.ok}

    def accepted(self) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.ok]

    def verify(self, raw: bytes, headers: dict[str, str]) -> str | None:
        if self.public_keys:
            return self.verify_v1a(raw, headers)
        for secret in self.secrets:
            try:
                Webhook(secret).verify(raw, headers)
            except Exception as exc:
                return f"standardwebhooks rejected with secret #{self.secrets.index(secret)}: {exc}"
        expected = "sha256=" + hmac.new(self.current_secret.encode(), raw, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, headers.get("x-signature-256", "")):
            return "X-Signature-256 does not match"
        return None

    def decide(self, *keys: str) -> tuple[int, float]:
        """The status to answer and how long to wait first; ``keys`` name the message for ``fail_first``."""
        behaviour = self.behaviour
        with self._lock:
            roll = self._random.random()
            for key in keys:
                if behaviour.fail_first.get(key, 0) > 0:
                    behaviour.fail_first[key] -= 1
                    return 500, behaviour.delay_seconds
        if behaviour.status is not None:
            return behaviour.status, behaviour.delay_seconds
        if roll < behaviour.hang_ratio:
            return 200, behaviour.hang_seconds
        if roll < behaviour.hang_ratio + behaviour.fail_ratio:
            return 500, behaviour.delay_seconds
        return 200, behaviour.delay_seconds


def _verifies(key: VerifyKey, signed: bytes, signature: bytes) -> bool:
    try:
        key.verify(signed, signature)
    except BadSignatureError:
        return False
    return True


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            error = receiver.verify(raw, headers)
            body = json.loads(raw or b"{}")  # a transform may make it any JSON value
            keys = (headers.get("webhook-id", ""), str(body.get("type", "")) if isinstance(body, dict) else "")
            status, wait = (400, 0.0) if error else receiver.decide(*keys)
            hung = wait >= receiver.behaviour.hang_seconds
            with receiver._lock:
                if error:
                    receiver.verification_errors.append(error)
                receiver.received.append(Received(headers.get("webhook-id", ""), body, headers, status, hung, raw))
            if wait:
                time.sleep(wait)
            try:
                self._answer(status)
            except OSError:
                return

        def _answer(self, status: int) -> None:
            payload = json.dumps({"status": status}).encode()
            self.send_response(status)
            if receiver.behaviour.retry_after is not None:
                self.send_header("Retry-After", receiver.behaviour.retry_after)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


@contextmanager
def serve_receiver(behaviour: Behaviour | None = None, seed: int = 7) -> Iterator[Receiver]:
    receiver = Receiver(behaviour=behaviour or Behaviour(), seed=seed)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
