"""Vendor requests and responses over the platform's one HTTP transport.

``chalicelib.core.http`` checks the URL policy at send time and pins the
connection to the checked address, so a tenant's ``configuration.baseUrl``
cannot be rebound to an internal address between check and connect. Retries
and redirects are off: the worker owns retrying, with backoff across SQS
deliveries.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

from chalicelib.adapters.errors import (
    ConfigurationError,
    VendorBadResponse,
    VendorError,
    VendorRejected,
    VendorTimeout,
    VendorUnauthorized,
    VendorUnavailable,
    redact,
)
from chalicelib.core import http, jsontext
from chalicelib.core.urls import UnsafeUrl

MAX_RESPONSE_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class VendorRequest:
    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    json_body: Any = None
    form: dict[str, str] | None = None
    raw_body: bytes | None = None

    def with_headers(self, extra: dict[str, str]) -> VendorRequest:
        return replace(self, headers={**self.headers, **extra})

    def with_query(self, extra: dict[str, str]) -> VendorRequest:
        return replace(self, query={**self.query, **extra})


@dataclass(frozen=True)
class VendorResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        if not self.body.strip():
            return None
        try:
            return jsontext.read(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise VendorBadResponse(f"The vendor answered {self.status} with a body that is not JSON.") from exc

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def url_for(base_url: str, request: VendorRequest) -> str:
    url = base_url.rstrip("/") + request.path
    return f"{url}?{urlencode(request.query)}" if request.query else url


def _encoded(request: VendorRequest) -> tuple[bytes | None, dict[str, str]]:
    headers = dict(request.headers)
    body: bytes | None = request.raw_body
    if request.json_body is not None:
        body = json.dumps(request.json_body).encode()
        headers.setdefault("Content-Type", "application/json")
    elif request.form is not None:
        body = urlencode(request.form).encode()
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    return body, headers


def send(base_url: str, request: VendorRequest, timeout: float) -> VendorResponse:
    """One HTTP exchange; transport failures become retryable ``VendorError``s."""
    url = url_for(base_url, request)
    body, headers = _encoded(request)
    try:
        result = http.exchange(
            request.method,
            url,
            field="configuration.baseUrl",
            body=body,
            headers=headers,
            connect_timeout=min(timeout, 5.0),
            read_timeout=timeout,
            max_body=MAX_RESPONSE_BYTES,
        )
    except UnsafeUrl as exc:
        raise ConfigurationError(exc.message) from exc
    except http.TransportTimeout as exc:
        raise VendorTimeout(f"The vendor did not answer within {timeout:g} seconds.") from exc
    except http.TransportError as exc:
        raise VendorUnavailable(f"The vendor could not be reached: {exc}.") from exc
    if result.truncated:
        raise VendorBadResponse(f"The vendor's response is larger than {MAX_RESPONSE_BYTES} bytes.")
    return VendorResponse(result.status, result.headers, result.body)


@contextmanager
def send_stream(base_url: str, request: VendorRequest, timeout: float, secrets: list[str]) -> Iterator[Iterator[bytes]]:
    """One request whose 2xx body is read line by line (server-sent events); anything else raises as ``send``'s.

    ``timeout`` bounds each wait for the next chunk; a stream that stalls or breaks midway is retryable.
    """
    body, headers = _encoded(request)
    try:
        with http.streaming(
            request.method,
            url_for(base_url, request),
            field="configuration.baseUrl",
            body=body,
            headers=headers,
            connect_timeout=min(timeout, 5.0),
            read_timeout=timeout,
        ) as streamed:
            if not 200 <= streamed.status < 300:
                raise_for_status(VendorResponse(streamed.status, streamed.headers, streamed.read(64 * 1024)), secrets)
            yield _transport_errors(streamed.lines(), timeout)
    except UnsafeUrl as exc:
        raise ConfigurationError(exc.message) from exc
    except http.TransportTimeout as exc:
        raise VendorTimeout(f"The vendor did not answer within {timeout:g} seconds.") from exc
    except http.TransportError as exc:
        raise VendorUnavailable(f"The vendor could not be reached: {exc}.") from exc


def _transport_errors(lines: Iterator[bytes], timeout: float) -> Iterator[bytes]:
    try:
        yield from lines
    except http.TransportTimeout as exc:
        raise VendorTimeout(f"The vendor's stream stalled for {timeout:g} seconds.") from exc
    except http.TransportError as exc:
        raise VendorUnavailable(f"The vendor's stream broke: {exc}.") from exc


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def _duration(value: str | None) -> float | None:
    """OpenAI's ``x-ratelimit-reset-*`` form: ``1s``, ``6m0s``, ``120ms`` (a bare number is seconds)."""
    if not value:
        return None
    text = value.strip()
    parts = _DURATION_PART.findall(text)
    if parts and "".join(n + u for n, u in parts) == text:
        return sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)
    return http.retry_after(text)


def retry_after(response: VendorResponse) -> float | None:
    """When the vendor says to come back: ``Retry-After``, else ``retry-after-ms`` (Azure), else the later of
    OpenAI's ``x-ratelimit-reset-requests`` / ``x-ratelimit-reset-tokens`` on a 429."""
    stated = http.retry_after(response.header("retry-after"))
    if stated is not None:
        return stated
    millis = _duration(f"{response.header('retry-after-ms')}ms") if response.header("retry-after-ms") else None
    if millis is not None:
        return millis
    if response.status != 429:
        return None
    resets = [_duration(response.header(f"x-ratelimit-reset-{kind}")) for kind in ("requests", "tokens")]
    known = [r for r in resets if r is not None]
    return max(known) if known else None


def vendor_message(response: VendorResponse) -> str:
    """The vendor's own words: GitHub ``message``, Slack ``error``, Jira ``errorMessages``, else the text."""
    try:
        document = jsontext.read(response.body)
    except (ValueError, UnicodeDecodeError):
        document = None
    if isinstance(document, dict):
        parts = [str(document[k]) for k in ("message", "error_description", "error", "detail") if document.get(k)]
        nested = document.get("errorMessages") or document.get("errors")
        if isinstance(nested, dict):
            nested = [f"{k}: {v}" for k, v in nested.items()]
        if isinstance(nested, list):
            parts += [str(e.get("message", e) if isinstance(e, dict) else e) for e in nested[:5]]
        if parts:
            return "; ".join(parts)
    text = response.body.decode("utf-8", errors="replace").strip()
    return text or f"HTTP {response.status}"


def raise_for_status(response: VendorResponse, secrets: list[str]) -> None:
    status = response.status
    if 200 <= status < 300:
        return
    message = f"The vendor answered {status}: {redact(vendor_message(response), secrets)}"
    error: VendorError
    if status == 401:
        error = VendorUnauthorized(message, status)
    elif status == 429 or status >= 500:
        error = VendorUnavailable(message, status, retry_after(response))
    elif status == 408:
        error = VendorTimeout(message, status)
    else:
        error = VendorRejected(message, status)
    raise error
