"""Calling the vendor for one claimed run and classifying what came back.

Nothing here changes the run record: the worker decides from the ``Outcome``
whether to complete, fail or retry, so this module has no ordering concerns.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.adapters.base import Adapter, ExecutionContext
from chalicelib.adapters.errors import VendorError, VendorTimeout, VendorUnauthorized, VendorUnavailable
from chalicelib.adapters.registry import adapter_for
from chalicelib.connections import secret
from chalicelib.connections import store as connections
from chalicelib.connections.models import Connection, ConnectionStatus
from chalicelib.core import tracing
from chalicelib.core.config import get_settings
from chalicelib.core.errors import ApiError
from chalicelib.protection import guard
from chalicelib.providers import service as providers
from chalicelib.runs.models import Run, RunError

MAX_BACKOFF_SECONDS = 900
MAX_STORED_DEPTH = 24  # DynamoDB refuses documents nested deeper than 32 levels; leave room for the item itself


@dataclass(frozen=True)
class Outcome:
    """Exactly one of: a result, a final error, or a retry after ``retry_in`` seconds.

    A retry with ``free`` set never reached the vendor (the rate limit held it back): the worker re-queues the run
    without using an attempt or a delivery.
    """

    result: Any = None
    truncated: bool = False
    error: RunError | None = None
    retry_in: int | None = None
    # How long the vendor call took; ``None`` when the vendor was not called (nothing to count).
    latency_ms: int | None = None
    free: bool = False


def backoff_seconds(attempt: int, retry_after: float | None) -> int:
    """Exponential with equal jitter, never sooner than the vendor's ``Retry-After``."""
    ceiling = get_settings().run_retry_base_seconds * 2.0 ** (attempt - 1)
    delay = ceiling / 2 + random.uniform(0, ceiling / 2)
    return min(MAX_BACKOFF_SECONDS, math.ceil(max(delay, retry_after or 0.0)))


def _depth(value: Any, level: int = 0) -> int:
    if level > MAX_STORED_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level)
    return level


def cap_result(result: Any) -> tuple[Any, bool]:
    """Results over ``RUN_RESULT_MAX_BYTES`` (or too deep to store) are kept as a prefix of their JSON text."""
    text = json.dumps(result, separators=(",", ":"), ensure_ascii=False)
    limit = get_settings().run_result_max_bytes
    encoded = text.encode()
    if len(encoded) <= limit and _depth(result) <= MAX_STORED_DEPTH:
        return result, False
    return encoded[:limit].decode("utf-8", errors="ignore"), True


def _failure(code: str, message: str, status: int) -> Outcome:
    return Outcome(error=RunError(code=code, message=message, status=status))


def execute(run: Run, progress: Callable[[Any], None] | None = None) -> Outcome:
    """Call the vendor once for ``run``; ``progress`` receives a streaming operation's partial result."""
    connection = connections.get(run.tenant_id, run.connection_id)
    if connection is None:
        return _failure("RESOURCE_NOT_FOUND", f"Connection '{run.connection_id}' no longer exists.", 404)
    if connection.status != ConnectionStatus.ACTIVE:
        return _failure("CONFLICT", f"Connection '{run.connection_id}' is {connection.status}.", 409)
    provider = providers.find(run.tenant_id, connection.provider_id)
    if provider is None:
        return _failure("RESOURCE_NOT_FOUND", f"Provider '{connection.provider_id}' no longer exists.", 404)
    adapter = adapter_for(provider).with_tools(connection.discovered_tools)
    settings = get_settings()
    context = ExecutionContext(
        base_url=provider.base_url,
        configuration=connection.configuration,
        run_id=run.run_id,
        timeout=settings.vendor_timeout_seconds,
        attempt=run.attempts,
        connection_id=run.connection_id,
        progress=progress,
    )
    try:
        ticket = guard.admit(connection)
    except guard.Held as held:
        return _held(run, held)
    started = time.monotonic()
    try:
        result = _call(adapter, run, connection, context)
    except VendorError as exc:
        latency = round((time.monotonic() - started) * 1000)
        guard.settle(ticket, vendor_down=vendor_down(exc))
        if exc.retryable and run.attempts < settings.run_max_attempts:
            return Outcome(retry_in=backoff_seconds(run.attempts, exc.retry_after), latency_ms=latency)
        return Outcome(
            error=RunError(code=exc.code, message=exc.message, status=exc.status, vendor_status=exc.vendor_status),
            latency_ms=latency,
        )
    except ApiError as exc:  # an unusable secret (409), or parameters valid when accepted but not for this adapter
        return _failure(exc.code, exc.message, exc.status)
    latency = round((time.monotonic() - started) * 1000)
    guard.settle(ticket, vendor_down=False)
    capped, truncated = cap_result(result)
    return Outcome(result=capped, truncated=truncated, latency_ms=latency)


def _call(adapter: Adapter, run: Run, connection: Connection, context: ExecutionContext) -> Any:
    """The vendor call, in an X-Ray subsegment named after the adapter (``chalicelib.core.tracing``)."""
    annotations = {"call": "vendor", "provider": adapter.provider_key, "operation": run.operation}
    ids = {"providerId": connection.provider_id, "connectionId": run.connection_id, "runId": run.run_id}
    with tracing.subsegment(adapter.provider_key, annotations, ids) as span:
        try:
            cached = secret.credential(connection)
            try:
                result = adapter.execute(run.operation, run.parameters or {}, cached, context)
            except VendorUnauthorized as refused:
                # The cached secret may predate a rotation: read AWSCURRENT again and, if it changed, try once
                # more, a vendor call of its own that the guard admits like the first (held back: the next attempt).
                credential = secret.credential(connection, refresh=True)
                if credential == cached:
                    raise
                try:
                    guard.admit(connection)
                except guard.Held as held:
                    message = f"{refused.message} (the retry with the credential read again waits for {held.reason})"
                    raise VendorUnavailable(message, refused.vendor_status, held.retry_in) from None
                result = adapter.execute(run.operation, run.parameters or {}, credential, context)
        except VendorError as exc:
            span.finish("failed", exc.vendor_status, no_answer=vendor_down(exc))
            raise
        except ApiError:
            span.finish("not_called")
            raise
        span.finish("succeeded")
        return result


def vendor_down(error: VendorError) -> bool:
    """What the breaker counts: a timeout, no answer, or a 5xx; a 4xx or a 429 means the vendor is up."""
    if isinstance(error, VendorTimeout):
        return True
    return isinstance(error, VendorUnavailable) and (error.vendor_status is None or error.vendor_status >= 500)


def _held(run: Run, held: guard.Held) -> Outcome:
    """A call the rate limit held back waits for its token without using an attempt; an open circuit retries
    after the cool-down while attempts remain, then fails the run with ``CIRCUIT_OPEN``."""
    wait = max(1, math.ceil(held.retry_in))
    if held.reason == "RATE_LIMITED":
        return Outcome(retry_in=min(wait, MAX_BACKOFF_SECONDS), free=True)
    if run.attempts < get_settings().run_max_attempts:
        return Outcome(retry_in=max(wait, backoff_seconds(run.attempts, None)))
    message = f"The circuit breaker for connection '{run.connection_id}' is open after repeated vendor failures."
    return _failure("CIRCUIT_OPEN", message, 503)
