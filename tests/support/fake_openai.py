"""A fake OpenAI-compatible model server on 127.0.0.1: chat completions, embeddings, SSE streaming, 429s.

It answers the OpenAI paths (``/v1/chat/completions``, ``/v1/embeddings``, ``/v1/models``)
and Azure's (``/openai/deployments/<name>/...?api-version=``), checks the key
(``Authorization: Bearer`` or Azure's ``api-key``), records every request, and
can be told to answer the next requests with a 429 (``Retry-After`` or OpenAI's
``x-ratelimit-reset-*``), or to stream a completion in given pieces, pausing
after a given piece until the test releases it (to read the partial text).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.waiting import WAIT_SECONDS

USAGE = {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}


@dataclass(frozen=True)
class Seen:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class FakeModelServer:
    url: str = ""
    key: str = "sk-test-key"
    reply: str = "Hello from the fake model."
    pieces: list[str] = field(default_factory=lambda: ["Hello", " from", " the", " fake", " model."])
    tool_call: dict[str, Any] | None = None
    requests: list[Seen] = field(default_factory=list)
    pause_after: int | None = None  # stream: wait for ``release`` after this many pieces
    released: threading.Event = field(default_factory=threading.Event)
    paused: threading.Event = field(default_factory=threading.Event)
    break_stream: bool = False  # stream: stop without [DONE] or a finish_reason
    _limits: list[dict[str, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def rate_limit_next(self, headers: dict[str, str]) -> None:
        with self._lock:
            self._limits.append(headers)

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        seen = Seen(
            parts.path,
            {k: v[0] for k, v in parse_qs(parts.query).items()},
            {k.lower(): v for k, v in handler.headers.items()},
            json.loads(raw) if raw else {},
        )
        with self._lock:
            self.requests.append(seen)
            limit = self._limits.pop(0) if self._limits else None
        if not self._authorized(seen):
            return _json(handler, 401, {"error": {"message": "Incorrect API key provided", "type": "invalid_request"}})
        if limit is not None:
            return _json(handler, 429, {"error": {"message": "Rate limit reached", "type": "requests"}}, limit)
        if parts.path.endswith("/models"):
            return _json(handler, 200, {"object": "list", "data": [{"id": "gpt-test"}]})
        if parts.path.endswith("/embeddings"):
            return _json(handler, 200, self._embeddings(seen.body))
        if parts.path.endswith("/chat/completions"):
            if seen.body.get("stream"):
                return self._stream(handler, seen.body)
            return _json(handler, 200, self._completion(seen.body))
        return _json(handler, 404, {"error": {"message": "unknown path"}})

    def _authorized(self, seen: Seen) -> bool:
        return seen.headers.get("authorization") == f"Bearer {self.key}" or seen.headers.get("api-key") == self.key

    def _completion(self, body: dict[str, Any]) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": self.reply}
        finish = "stop"
        if self.tool_call is not None and body.get("tools"):
            message = {"role": "assistant", "content": None, "tool_calls": [self.tool_call]}
            finish = "tool_calls"
        return {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "model": body.get("model", "deployment-model"),
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": USAGE,
        }

    def _embeddings(self, body: dict[str, Any]) -> dict[str, Any]:
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        data = [{"object": "embedding", "index": i, "embedding": [0.25, -0.5, float(i)]} for i in range(len(inputs))]
        return {
            "object": "list",
            "model": body.get("model"),
            "data": list(reversed(data)),
            "usage": {"prompt_tokens": 4, "total_tokens": 4},
        }

    def _stream(self, handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.end_headers()
        model = body.get("model", "deployment-model")

        def event(chunk: dict[str, Any] | str) -> None:
            data = chunk if isinstance(chunk, str) else json.dumps(chunk)
            handler.wfile.write(f"data: {data}\n\n".encode())
            handler.wfile.flush()

        handler.wfile.write(b": keep-alive comment\n\n")
        for number, piece in enumerate(self.pieces, start=1):
            event({"model": model, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]})
            if number == self.pause_after:
                self.paused.set()
                self.released.wait(WAIT_SECONDS)
        if self.break_stream:
            return
        event({"model": model, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        if body.get("stream_options", {}).get("include_usage"):
            event({"model": model, "choices": [], "usage": USAGE})
        event("[DONE]")


def _json(handler: BaseHTTPRequestHandler, status: int, document: Any, headers: dict[str, str] | None = None) -> None:
    body = json.dumps(document).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(body)


@contextmanager
def serve_models() -> Iterator[FakeModelServer]:
    fake = FakeModelServer()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # a stream ends when the connection closes, as without chunking

        def do_GET(self) -> None:
            fake.handle(self)

        def do_POST(self) -> None:
            fake.handle(self)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake.released.set()
        server.shutdown()
        server.server_close()
