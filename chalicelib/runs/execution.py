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

from chalicelib.adapters.base import ExecutionContext
from chalicelib.adapters.errors import VendorError, VendorUnauthorized
from chalicelib.adapters.registry import adapter_for
from chalicelib.connections import secret
from chalicelib.connections import store as connections
from chalicelib.connections.models import ConnectionStatus
from chalicelib.core.config import get_settings
from chalicelib.core.errors import ApiError
from chalicelib.providers import service as providers
from chalicelib.runs.models import Run, RunError

MAX_BACKOFF_SECONDS = 900
MAX_STORED_DEPTH = 24  # DynamoDB refuses documents nested deeper than 32 levels; leave room for the item itself


@dataclass(frozen=True)
class Outcome:
    """Exactly one of: a result, a final error, or a retry after ``retry_in`` seconds."""

    result: Any = None
    truncated: bool = False
    error: RunError | None = None
    retry_in: int | None = None
    # How long the vendor call took; ``None`` when the vendor was not called (nothing to count).
    latency_ms: int | None = None


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
    started = time.monotonic()
    try:
        try:
            result = adapter.execute(run.operation, run.parameters or {}, secret.credential(connection), context)
        except VendorUnauthorized:
            # The cached secret may predate a rotation: read AWSCURRENT again and try once more.
            credential = secret.credential(connection, refresh=True)
            result = adapter.execute(run.operation, run.parameters or {}, credential, context)
    except VendorError as exc:
        latency = round((time.monotonic() - started) * 1000)
        if exc.retryable and run.attempts < settings.run_max_attempts:
            return Outcome(retry_in=backoff_seconds(run.attempts, exc.retry_after), latency_ms=latency)
        return Outcome(
            error=RunError(code=exc.code, message=exc.message, status=exc.status, vendor_status=exc.vendor_status),
            latency_ms=latency,
        )
    except ApiError as exc:  # an unusable secret (409), or parameters valid when accepted but not for this adapter
        return _failure(exc.code, exc.message, exc.status)
    latency = round((time.monotonic() - started) * 1000)
    capped, truncated = cap_result(result)
    return Outcome(result=capped, truncated=truncated, latency_ms=latency)
