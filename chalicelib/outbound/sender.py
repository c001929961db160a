"""One HTTP POST to a subscriber, pinned to the address that passed the URL policy.

The host is resolved and every address checked right before sending (DNS can
change after the subscription was stored); the connection then goes to that
checked address, with the original host in ``Host`` and TLS SNI/verification,
so a second lookup cannot swap in an internal address. One ``PoolManager`` per
process keeps connections alive between records and invocations; redirects are
not followed (a 3xx is a failed attempt), so a redirect cannot reach inside.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from chalicelib.core.config import get_settings
from chalicelib.core.urls import UnsafeUrl, address_refusal, check_url, resolve

if TYPE_CHECKING:
    import urllib3

RESPONSE_BODY_LIMIT = 1024
USER_AGENT = "integration-platform-webhooks/1"

_pool: urllib3.PoolManager | None = None
_lock = threading.Lock()


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    latency_ms: int
    response_body: str | None = None
    error: str | None = None
    retry_after: float | None = None
    refused: bool = False

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _manager() -> urllib3.PoolManager:
    global _pool
    if _pool is None:
        import urllib3  # on the first send: the API's request path never needs it

        with _lock:
            if _pool is None:
                _pool = urllib3.PoolManager(num_pools=100, maxsize=10, retries=False)
    return _pool


def pinned_address(url: str) -> str:
    """The address to connect to, after the URL policy accepted every resolved address."""
    check_url(url, "endpointUrl", resolve_host=False)
    host = urlsplit(url).hostname or ""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return "127.0.0.1"
    addresses = resolve(host)
    allow_loopback = get_settings().allow_insecure_urls
    for address in addresses:
        reason = address_refusal(address, allow_loopback=allow_loopback)
        if reason:
            raise UnsafeUrl(f"endpointUrl points at {reason} ({address}).")
    return next((a for a in addresses if ":" not in a), addresses[0])


def retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds (delta form), or from an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> Outcome:
    import urllib3

    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        address = pinned_address(url)
    except UnsafeUrl as exc:
        return Outcome(None, elapsed(), error=f"refused by the URL policy: {exc.message}", refused=True)
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    pool_kwargs = {"server_hostname": host, "assert_hostname": host} if parts.scheme == "https" else {}
    pool = _manager().connection_from_host(address, port, parts.scheme, pool_kwargs=pool_kwargs)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host_header = host if parts.port is None else f"{host}:{parts.port}"
    all_headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Host": host_header,
        **headers,
    }
    try:
        response = pool.urlopen(
            "POST",
            target,
            body=body,
            headers=all_headers,
            timeout=urllib3.Timeout(total=timeout),
            retries=False,
            redirect=False,
            preload_content=False,
            assert_same_host=False,
        )
    except urllib3.exceptions.TimeoutError:
        return Outcome(None, elapsed(), error=f"timed out after {timeout:g} s")
    except urllib3.exceptions.HTTPError as exc:
        return Outcome(None, elapsed(), error=f"connection failed: {type(exc).__name__}")
    try:
        text = response.read(RESPONSE_BODY_LIMIT, decode_content=True).decode("utf-8", "replace")
        response.drain_conn()
    except urllib3.exceptions.HTTPError:
        text = ""
    finally:
        response.release_conn()
    return Outcome(
        response.status,
        elapsed(),
        response_body=text or None,
        retry_after=retry_after(response.headers.get("Retry-After")),
    )
