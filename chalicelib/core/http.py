"""The one outbound HTTP transport, for vendor calls and webhook deliveries alike.

Every request is checked against the URL policy right before it is sent, and
the connection then goes to the very address that passed the check, with the
original host in ``Host`` and in TLS SNI/verification. A second DNS lookup
(rebinding) therefore cannot swap in an internal address. One urllib3 pool per
process keeps connections alive; retries and redirects are off, because callers
own retrying and a redirect would bypass the policy. urllib3 ships with
botocore in the Lambda runtime, and is imported on the first request only.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from chalicelib.core.config import get_settings
from chalicelib.core.urls import UnsafeUrl, address_refusal, check_url, resolve

if TYPE_CHECKING:
    import urllib3

USER_AGENT = "integration-platform/1"
_pools: list[urllib3.PoolManager] = []
_lock = threading.Lock()


class TransportError(Exception):
    """The request never got an HTTP answer: refused, reset, TLS failure."""


class TransportTimeout(TransportError):
    """No answer within the timeout."""


@dataclass(frozen=True)
class HttpResult:
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes
    truncated: bool

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def _pool() -> urllib3.PoolManager:
    if not _pools:
        import urllib3

        with _lock:
            if not _pools:
                _pools.append(urllib3.PoolManager(num_pools=100, maxsize=10, retries=False))
    return _pools[0]


def pinned_address(url: str, field: str) -> str:
    """The address to connect to, once the policy accepted every address the host resolves to."""
    check_url(url, field, resolve_host=False)
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
            raise UnsafeUrl(f"{field} points at {reason} ({address}).")
    return next((a for a in addresses if ":" not in a), addresses[0])


def retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds, from the delta form or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value.strip()))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def exchange(
    method: str,
    url: str,
    *,
    field: str,
    body: bytes | None,
    headers: dict[str, str],
    connect_timeout: float,
    read_timeout: float,
    max_body: int,
) -> HttpResult:
    """One request to a checked, pinned address; reads at most ``max_body`` bytes of the answer.

    Raises ``UnsafeUrl`` when the policy refuses the URL, ``TransportTimeout`` or
    ``TransportError`` when no HTTP answer came back.
    """
    import urllib3

    try:
        with _opened(method, url, field, body, headers, connect_timeout, read_timeout) as response:
            content = response.read(max_body + 1, decode_content=True)
            if len(content) > max_body:
                response.close()  # do not read an oversized answer to the end just to reuse the connection
            else:
                response.drain_conn()
    except urllib3.exceptions.NewConnectionError as exc:  # first: urllib3 derives it from ConnectTimeoutError
        raise TransportError(f"connection refused ({type(exc).__name__})") from exc
    except urllib3.exceptions.TimeoutError as exc:
        raise TransportTimeout(f"no answer within {read_timeout:g} s") from exc
    except urllib3.exceptions.HTTPError as exc:
        raise TransportError(f"connection failed ({type(exc).__name__})") from exc
    return HttpResult(
        status=response.status,
        headers={k.lower(): v for k, v in response.headers.items()},
        body=content[:max_body],
        truncated=len(content) > max_body,
    )


@contextmanager
def _opened(
    method: str,
    url: str,
    field: str,
    body: bytes | None,
    headers: dict[str, str],
    connect_timeout: float,
    read_timeout: float,
) -> Iterator[Any]:
    """The urllib3 response of one pinned request, body not yet read; released on leaving."""
    import urllib3

    address = pinned_address(url, field)
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    pool_kwargs = {"server_hostname": host, "assert_hostname": host} if parts.scheme == "https" else {}
    pool = _pool().connection_from_host(address, port, parts.scheme, pool_kwargs=pool_kwargs)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    all_headers = {"User-Agent": USER_AGENT, **headers, "Host": host if parts.port is None else f"{host}:{parts.port}"}
    response = pool.urlopen(
        method,
        target,
        body=body,
        headers=all_headers,
        timeout=urllib3.Timeout(connect=connect_timeout, read=read_timeout),
        retries=False,
        redirect=False,
        preload_content=False,
        assert_same_host=False,
    )
    try:
        yield response
    finally:
        response.release_conn()


@dataclass(frozen=True)
class StreamedResult:
    """A response whose body is read as it arrives (server-sent events); ``lines`` raises the transport errors."""

    status: int
    headers: dict[str, str]  # lower-cased names
    _response: Any

    def lines(self) -> Iterator[bytes]:
        import urllib3

        try:
            pending = b""
            for chunk in self._chunks():
                pending += chunk
                *complete, pending = pending.split(b"\n")
                yield from complete
            if pending:
                yield pending
        except urllib3.exceptions.TimeoutError as exc:
            raise TransportTimeout("the stream stalled") from exc
        except urllib3.exceptions.HTTPError as exc:
            raise TransportError(f"the stream broke ({type(exc).__name__})") from exc

    def _chunks(self) -> Iterator[bytes]:
        """What has arrived, as it arrives: urllib3 2's ``read1``; urllib3 1.26 (an older Lambda runtime) has
        only ``stream``, which waits for a full buffer unless the answer is chunked, as vendors' streams are."""
        read1 = getattr(self._response, "read1", None)
        if read1 is None:
            yield from self._response.stream(4096, decode_content=True)
            return
        while chunk := read1(4096):
            yield chunk

    def read(self, max_body: int) -> bytes:
        """The whole (bounded) body, for an answer that is not a stream (an error document)."""
        return b"".join(_bounded(self.lines(), max_body))


def _bounded(lines: Iterator[bytes], limit: int) -> Iterator[bytes]:
    size = 0
    for line in lines:
        size += len(line) + 1
        if size > limit:
            return
        yield line + b"\n"


@contextmanager
def streaming(
    method: str,
    url: str,
    *,
    field: str,
    body: bytes | None,
    headers: dict[str, str],
    connect_timeout: float,
    read_timeout: float,
) -> Iterator[StreamedResult]:
    """Like ``exchange``, under the same URL policy and pinning, but the body is read line by line.

    ``read_timeout`` bounds the wait for each chunk, not the whole stream.
    """
    import urllib3

    try:
        with _opened(method, url, field, body, headers, connect_timeout, read_timeout) as response:
            yield StreamedResult(response.status, {k.lower(): v for k, v in response.headers.items()}, response)
    except urllib3.exceptions.NewConnectionError as exc:
        raise TransportError(f"connection refused ({type(exc).__name__})") from exc
    except urllib3.exceptions.TimeoutError as exc:
        raise TransportTimeout(f"no answer within {read_timeout:g} s") from exc
    except urllib3.exceptions.HTTPError as exc:
        raise TransportError(f"connection failed ({type(exc).__name__})") from exc
