"""HTTP over ``urllib`` with the retry rules every call shares.

429 and 503 are retried: the wait is the ``Retry-After`` the platform sent
(seconds or an HTTP date, capped at ``max_wait``) or, without one, exponential
backoff with full jitter. A connection failure is retried only when repeating
is safe: a GET, or a write that carries an ``Idempotency-Key``. The key is
chosen once per call, so every attempt of a create is the same create.
"""

from __future__ import annotations

import json
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from integration_platform import jsonread
from integration_platform.errors import TransportError, error_for

RETRY_STATUSES = frozenset({429, 503})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class RetryPolicy:
    """How many times and how long to wait; ``attempts`` counts the first try."""

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 20.0
    max_wait: float = 120.0


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return jsonread.read(self.body) if self.body else None


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds from now, from either of its two forms; ``None`` when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


@dataclass
class Transport:
    base_url: str
    headers: dict[str, str] = field(default_factory=dict)
    timeout: float = 30.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Callable[[float], None] = time.sleep

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """Send with retries; a 2xx or 3xx comes back, anything else raises its ``ApiError`` subclass."""
        url = self.base_url.rstrip("/") + path
        params = {key: str(value) for key, value in (query or {}).items() if value is not None}
        if params:
            url += "?" + urllib.parse.urlencode(params)
        all_headers = {"Accept": "application/json", **self.headers, **(headers or {})}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            all_headers["Content-Type"] = "application/json"
        repeatable = method in SAFE_METHODS or "Idempotency-Key" in all_headers
        for attempt in range(1, self.retry.attempts + 1):
            last = attempt == self.retry.attempts
            try:
                response = self._send(urllib.request.Request(url, data=data, method=method, headers=all_headers))
            except TransportError:
                if last or not repeatable:
                    raise
                self.sleep(self._backoff(attempt))
                continue
            if response.status < 400:
                return response
            wait = retry_after_seconds(response.headers.get("retry-after"))
            if response.status in RETRY_STATUSES and not last and (wait is None or wait <= self.retry.max_wait):
                self.sleep(self._backoff(attempt) if wait is None else wait)
                continue
            raise error_for(response.status, response.body, response.headers, wait)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _backoff(self, attempt: int) -> float:
        return random.uniform(0, min(self.retry.max_delay, self.retry.base_delay * 2 ** (attempt - 1)))

    def _send(self, request: urllib.request.Request) -> Response:
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as reply:
                return Response(reply.status, _lower(reply.headers.items()), reply.read())
        except urllib.error.HTTPError as error:
            with error:
                return Response(error.code, _lower(error.headers.items()), error.read())
        except (urllib.error.URLError, OSError) as error:
            raise TransportError(f"{request.get_method()} {request.full_url}: {error}") from error


def _lower(items: Any) -> dict[str, str]:
    return {str(name).lower(): str(value) for name, value in items}
