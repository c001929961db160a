"""Per-request context (trace id) shared by handlers, services and logs.

A ``ContextVar`` rather than a global so that the local runtime's threaded HTTP
server and concurrent batch workers never mix up two requests' trace ids.
"""

from __future__ import annotations

import re
import secrets
from contextvars import ContextVar

_trace_id: ContextVar[str | None] = ContextVar("trace_id", default=None)

_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")
_CORRELATION = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


def trace_id_from_headers(traceparent: str | None, correlation_id: str | None) -> str:
    """Honour W3C ``traceparent`` first, then ``X-Correlation-Id``, else mint one."""
    if traceparent:
        match = _TRACEPARENT.match(traceparent.strip().lower())
        if match:
            return f"trace-{match.group(1)}"
    if correlation_id and _CORRELATION.match(correlation_id.strip()):
        return correlation_id.strip()
    return f"trace-{secrets.token_hex(8)}"


def set_trace_id(trace_id: str) -> None:
    _trace_id.set(trace_id)


def current_trace_id() -> str:
    trace_id = _trace_id.get()
    if trace_id is None:
        trace_id = f"trace-{secrets.token_hex(8)}"
        _trace_id.set(trace_id)
    return trace_id
