"""The one outbound HTTP client for vendor calls: urllib3, one shared pool, no hidden retries.

urllib3 ships in the Lambda runtime (botocore depends on it), so vendor calls add
no package. Retries and redirects are off: the worker owns retrying (with
backoff across SQS deliveries), and following a redirect would bypass the URL
policy that ``check_url`` applies to every request at send time.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
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
from chalicelib.core.urls import UnsafeUrl, check_url

if TYPE_CHECKING:
    import urllib3

_pools: list[urllib3.PoolManager] = []
_lock = threading.Lock()
MAX_RESPONSE_BYTES = 8 * 1024 * 1024


def _pool() -> urllib3.PoolManager:
    """Created on the first vendor call: importing urllib3 is not free and API requests never need it."""
    if not _pools:
        import urllib3

        with _lock:
            if not _pools:
                _pools.append(
                    urllib3.PoolManager(
                        num_pools=32, maxsize=8, retries=False, headers={"User-Agent": "integration-platform/1"}
                    )
                )
    return _pools[0]


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
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise VendorBadResponse(f"The vendor answered {self.status} with a body that is not JSON.") from exc

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def url_for(base_url: str, request: VendorRequest) -> str:
    url = base_url.rstrip("/") + request.path
    return f"{url}?{urlencode(request.query)}" if request.query else url


def send(base_url: str, request: VendorRequest, timeout: float) -> VendorResponse:
    """One HTTP exchange; transport failures become retryable ``VendorError``s."""
    url = url_for(base_url, request)
    try:
        check_url(url, "configuration.baseUrl")
    except UnsafeUrl as exc:
        raise ConfigurationError(exc.message) from exc
    headers = dict(request.headers)
    body: bytes | None = request.raw_body
    if request.json_body is not None:
        body = json.dumps(request.json_body).encode()
        headers.setdefault("Content-Type", "application/json")
    elif request.form is not None:
        body = urlencode(request.form).encode()
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    import urllib3

    try:
        raw = _pool().request(
            request.method,
            url,
            body=body,
            headers=headers,
            timeout=urllib3.Timeout(connect=min(timeout, 5.0), read=timeout),
            redirect=False,
            preload_content=False,
        )
        try:
            content = raw.read(MAX_RESPONSE_BYTES + 1, decode_content=True)
        finally:
            raw.release_conn()
    except urllib3.exceptions.NewConnectionError as exc:  # listed first: urllib3 derives it from ConnectTimeoutError
        raise VendorUnavailable("The vendor refused the connection.") from exc
    except urllib3.exceptions.TimeoutError as exc:
        raise VendorTimeout(f"The vendor did not answer within {timeout:g} seconds.") from exc
    except urllib3.exceptions.HTTPError as exc:
        raise VendorUnavailable(f"The vendor could not be reached ({type(exc).__name__}).") from exc
    if len(content) > MAX_RESPONSE_BYTES:
        raise VendorBadResponse(f"The vendor's response is larger than {MAX_RESPONSE_BYTES} bytes.")
    return VendorResponse(raw.status, {k.lower(): v for k, v in raw.headers.items()}, content)


def retry_after(response: VendorResponse) -> float | None:
    """``Retry-After`` in seconds (delta form only; vendors send dates rarely and a date needs a clock we trust)."""
    value = response.header("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value.strip()))
    except ValueError:
        return None


def vendor_message(response: VendorResponse) -> str:
    """The vendor's own words: GitHub ``message``, Slack ``error``, Jira ``errorMessages``, else the text."""
    try:
        document = json.loads(response.body)
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
