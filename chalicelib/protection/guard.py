"""One vendor call's protection: take a token, ask the breaker, and tell the breaker how the call went.

Every call toward a vendor is admitted here first: a run's operation (and its
one retry after a 401), a health check (the sweep's, ``POST .../health/check``
and ``POST .../test``) and a rotation's verification. ``admit`` costs one
DynamoDB call per vendor call in the common case: the bucket's ``UpdateItem``
(or, without a ``rateLimit``, one consistent ``GetItem``) returns the breaker
state too. ``Held`` means the call must not happen now: the worker retries the
run after ``retry_in`` seconds, the sweep defers its check job as long, the API
answers with ``refusal``, and a rotation fails its verification.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from chalicelib.connections.models import Connection
from chalicelib.core.errors import ApiError, CircuitOpen, FieldError, RateLimitExceeded
from chalicelib.protection import breaker, state
from chalicelib.protection.bucket import RateLimit, take


@dataclass(frozen=True)
class Held(Exception):
    """``reason`` is ``RATE_LIMITED`` (the bucket is empty) or ``CIRCUIT_OPEN``."""

    reason: str
    retry_in: float


@dataclass(frozen=True)
class Ticket:
    """What ``admit`` read, handed back to ``settle`` so a healthy call writes nothing more."""

    tenant_id: str
    connection_id: str
    item: dict[str, float]


def admit(connection: Connection, now: float | None = None) -> Ticket:
    moment = time.time() if now is None else now
    tenant_id, connection_id = connection.tenant_id, connection.connection_id
    limit = RateLimit.of(connection.configuration)
    if limit is not None:
        taken = take(tenant_id, connection_id, limit, moment)
        if taken.wait > 0:
            raise Held("RATE_LIMITED", taken.wait)
        item = taken.item
    else:
        item = state.read(tenant_id, connection_id)
    verdict = breaker.admit(tenant_id, connection_id, item, moment)
    if not verdict.allowed:
        raise Held("CIRCUIT_OPEN", verdict.retry_in)
    return Ticket(tenant_id, connection_id, item)


def settle(ticket: Ticket, *, vendor_down: bool, now: float | None = None) -> None:
    """``vendor_down``: a 5xx, a timeout or no answer; anything else the vendor said counts as up."""
    if vendor_down:
        breaker.failed(ticket.tenant_id, ticket.connection_id, time.time() if now is None else now)
    else:
        breaker.succeeded(ticket.tenant_id, ticket.connection_id, ticket.item)


def refusal(held: Held, connection_id: str) -> ApiError:
    """A held call as a synchronous API answer: 429 (rate limit) or 503 (breaker open), both with Retry-After."""
    wait = max(1, math.ceil(held.retry_in))
    headers = {"Retry-After": str(wait)}
    if held.reason == "RATE_LIMITED":
        return RateLimitExceeded(
            f"Connection '{connection_id}' has used its vendor rate limit (configuration.rateLimit); "
            f"retry after {wait} seconds.",
            [FieldError("retry_after", str(wait))],
            headers=headers,
        )
    return CircuitOpen(
        f"The circuit breaker for connection '{connection_id}' is open after repeated vendor failures; "
        f"the vendor was not called. Retry after {wait} seconds.",
        headers=headers,
    )
