"""One HTTP POST to a subscriber, over the platform's one HTTP transport.

``chalicelib.core.http`` resolves the host and checks every address right
before sending (DNS can change after the subscription was stored), then pins
the connection to that address, so a second lookup cannot swap in an internal
one. Redirects are not followed (a 3xx is a failed attempt), so a redirect
cannot reach inside either.
"""

from __future__ import annotations

import time

from chalicelib.core import http
from chalicelib.core.urls import UnsafeUrl
from chalicelib.destinations.base import Outcome

RESPONSE_BODY_LIMIT = 1024


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> Outcome:
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        result = http.exchange(
            "POST",
            url,
            field="endpointUrl",
            body=body,
            headers={"Content-Type": "application/json", **headers},
            connect_timeout=min(timeout, 5.0),
            read_timeout=timeout,
            max_body=RESPONSE_BODY_LIMIT,
        )
    except UnsafeUrl as exc:
        return Outcome(None, elapsed(), error=f"refused by the URL policy: {exc.message}", refused=True)
    except http.TransportTimeout:
        return Outcome(None, elapsed(), error=f"timed out after {timeout:g} s")
    except http.TransportError as exc:
        return Outcome(None, elapsed(), error=f"connection failed: {exc}")
    text = result.body.decode("utf-8", "replace")
    return Outcome(
        result.status,
        elapsed(),
        response_body=text or None,
        retry_after=http.retry_after(result.header("retry-after")),
    )
