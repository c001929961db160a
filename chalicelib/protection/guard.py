"""One vendor call's protection: take a token, ask the breaker, and tell the breaker how the call went.

``admit`` costs one DynamoDB call per vendor call in the common case: the
bucket's ``UpdateItem`` (or, without a ``rateLimit``, one consistent
``GetItem``) returns the breaker state too. ``Held`` means the call must not
happen now; the worker retries the run after ``retry_in`` seconds.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from chalicelib.connections.models import Connection
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
