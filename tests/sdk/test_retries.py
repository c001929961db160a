"""Retries against a tiny local server that answers 429/503 (with ``Retry-After``) before it answers 200.

The runtime's own rate limiter answers 429 only under load, so these use a
scripted ``http.server``; the SDK's ``sleep`` is recorded instead of slept.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from integration_platform import BadRequestError, Client, RateLimitedError, RetryPolicy, ServerError, TransportError

from tests.e2e.conftest import free_port

ERROR_429 = {"error": {"code": "RATE_LIMIT_EXCEEDED", "message": "Slow down."}, "traceId": "trace-429"}


@dataclass
class Script:
    """Answers in order (status, headers, body); the last one repeats. Records every request's headers."""

    answers: list[tuple[int, dict[str, str], Any]]
    seen: list[dict[str, str]] = field(default_factory=list)


@contextmanager
def scripted(*answers: tuple[int, dict[str, str], Any]) -> Iterator[tuple[str, Script]]:
    script = Script(list(answers))

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            script.seen.append(dict(self.headers.items()))
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            index = min(len(script.seen), len(script.answers)) - 1
            status, headers, body = script.answers[index]
            data = json.dumps(body).encode()
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._answer()

        def do_POST(self) -> None:
            self._answer()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", script
    finally:
        server.shutdown()
        server.server_close()


def _client(url: str, slept: list[float], attempts: int = 4) -> Client:
    return Client(url, token="t", retry=RetryPolicy(attempts=attempts), sleep=slept.append)


def test_a_429_is_retried_after_its_retry_after_seconds() -> None:
    slept: list[float] = []
    run = {"runId": "run-1", "status": "Completed"}
    with scripted((429, {"Retry-After": "2"}, ERROR_429), (200, {}, run)) as (url, script):
        assert _client(url, slept).get_run("run-1") == run
    assert slept == [2.0]
    assert len(script.seen) == 2


def test_a_503_with_an_http_date_waits_until_that_date() -> None:
    slept: list[float] = []
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    with scripted((503, {"Retry-After": when}, {}), (200, {}, {"items": []})) as (url, _):
        _client(url, slept).list_runs()
    assert len(slept) == 1 and 25 < slept[0] <= 30


def test_without_retry_after_the_backoff_grows_and_is_bounded() -> None:
    slept: list[float] = []
    with (
        scripted(
            (503, {}, {}),
        ) as (url, script),
        pytest.raises(ServerError) as raised,
    ):
        _client(url, slept, attempts=4).get_run("run-1")
    assert len(script.seen) == 4 and len(slept) == 3
    assert all(0 <= wait <= 0.5 * 2**i for i, wait in enumerate(slept))
    assert raised.value.status == 503


def test_retries_spent_raise_the_typed_error_with_code_trace_and_retry_after() -> None:
    slept: list[float] = []
    with scripted((429, {"Retry-After": "1"}, ERROR_429)) as (url, _), pytest.raises(RateLimitedError) as raised:
        _client(url, slept, attempts=2).list_connections()
    assert (raised.value.code, raised.value.trace_id, raised.value.retry_after) == (
        "RATE_LIMIT_EXCEEDED",
        "trace-429",
        1.0,
    )


def test_every_retry_of_a_create_carries_the_same_idempotency_key() -> None:
    slept: list[float] = []
    with scripted((429, {"Retry-After": "0"}, ERROR_429), (503, {}, {}), (201, {}, {"subscriptionId": "s"})) as (
        url,
        script,
    ):
        _client(url, slept).create_subscription({"endpointUrl": "https://example.com/hook", "eventTypes": ["*"]})
    keys = {seen["Idempotency-Key"] for seen in script.seen}
    assert len(script.seen) == 3 and len(keys) == 1 and keys != {""}


def test_a_given_idempotency_key_is_sent_and_two_creates_get_two_keys() -> None:
    with scripted((201, {}, {"connectionId": "c"})) as (url, script):
        client = _client(url, [])
        client.create_connection({"providerId": "p", "displayName": "d"}, idempotency_key="mine")
        client.create_connection({"providerId": "p", "displayName": "d"})
        client.create_connection({"providerId": "p", "displayName": "d"})
    keys = [seen["Idempotency-Key"] for seen in script.seen]
    assert keys[0] == "mine" and len(set(keys)) == 3


def test_a_400_is_not_retried() -> None:
    slept: list[float] = []
    body = {"error": {"code": "VALIDATION_ERROR", "message": "Bad.", "details": [{"field": "x"}]}, "traceId": "t-1"}
    with scripted((400, {}, body)) as (url, script), pytest.raises(BadRequestError) as raised:
        _client(url, slept).get_run("run-1")
    assert len(script.seen) == 1 and slept == []
    assert raised.value.details == [{"field": "x"}]


def test_an_unreachable_platform_is_a_transport_error_after_the_retries() -> None:
    slept: list[float] = []
    with pytest.raises(TransportError):
        _client(f"http://127.0.0.1:{free_port()}", slept, attempts=3).get_run("run-1")
    assert len(slept) == 2


def test_an_unreachable_platform_is_not_retried_for_a_write_without_a_key() -> None:
    slept: list[float] = []
    with pytest.raises(TransportError):
        _client(f"http://127.0.0.1:{free_port()}", slept).delete_subscription("sub-1")
    assert slept == []
