"""One exception hierarchy for everything the SDK raises.

An ``ApiError`` carries the documented error body (``code``, ``message``,
``details``) and the ``traceId`` to quote to an operator; its subclass says
which family the HTTP status belongs to, so callers ``except NotFoundError``
instead of comparing numbers.
"""

from __future__ import annotations

from typing import Any

from integration_platform import jsonread


class PlatformError(Exception):
    """Anything the SDK raises on purpose."""


class TransportError(PlatformError):
    """The platform could not be reached (connection refused, reset, timed out)."""


class WaitTimeoutError(PlatformError, TimeoutError):
    """``wait_for_run`` gave up before the run reached a final status; ``run`` is the last one seen."""

    def __init__(self, message: str, run: Any) -> None:
        super().__init__(message)
        self.run = run


class ApiError(PlatformError):
    """The platform answered with an error status and (usually) the documented error body."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        trace_id: str | None = None,
        details: list[dict[str, Any]] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}" + (f" (traceId {trace_id})" if trace_id else ""))
        self.status = status
        self.code = code
        self.message = message
        self.trace_id = trace_id
        self.details = details or []
        self.retry_after = retry_after


class BadRequestError(ApiError):
    """400, 413, 415, 422: the request itself is wrong; sending it again will not help."""


class AuthenticationError(ApiError):
    """401: missing, expired or invalid credentials."""


class PermissionDeniedError(ApiError):
    """403: the credentials lack the scope or tenant."""


class NotFoundError(ApiError):
    """404: no such resource for this tenant."""


class ConflictError(ApiError):
    """409: the resource's state forbids the change (or an idempotent repeat is still running)."""


class RateLimitedError(ApiError):
    """429 after the retries were spent; ``retry_after`` says how long the platform asked to wait."""


class ServerError(ApiError):
    """5xx: the platform failed or is unavailable; safe to retry later."""


_BY_STATUS: dict[int, type[ApiError]] = {
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitedError,
}


def error_for(status: int, body: bytes, headers: dict[str, str], retry_after: float | None) -> ApiError:
    """The typed exception for an error response; a body not in the documented shape still gives a code."""
    try:
        parsed = jsonread.read(body) if body else {}
    except ValueError:
        parsed = {}
    error = parsed.get("error") if isinstance(parsed, dict) else None
    error = error if isinstance(error, dict) else {}
    kind = _BY_STATUS.get(status) or (ServerError if status >= 500 else BadRequestError)
    trace_id = parsed.get("traceId") if isinstance(parsed, dict) else None
    return kind(
        status,
        str(error.get("code") or f"HTTP_{status}"),
        str(error.get("message") or body[:200].decode(errors="replace") or "no error body"),
        trace_id=str(trace_id or headers.get("x-trace-id") or "") or None,
        details=[item for item in error.get("details") or [] if isinstance(item, dict)],
        retry_after=retry_after,
    )
