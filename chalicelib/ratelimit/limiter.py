"""Counting requests in fixed one-minute windows, amortized per container (docs/rate-limits.md).

A window is one item in the rate-limits table, keyed ``<tenantId>#<scope>#<window>``. Each
container counts its requests in memory and adds them to the item at most once per
``FLUSH_SECONDS`` per key: one ``UpdateItem ADD`` of every counter that moved (the tenant's,
an API key's), which returns the window's totals across every container. A request is
decided on this container's view: the totals the last flush returned plus what it counted
since. So a warm container at steady load writes once a second per key, not once per
request, and the limit can be overshot by what the *other* warm containers counted in the
last interval (at most one interval's traffic per warm container); a container never
overshoots on its own traffic.

The first request of a window in a container flushes at once, so every container starts a
window from the shared count. A flush that fails (throttled, AWS down) keeps its counts for
the next flush and fails nothing: the request is decided on what the container knows.
Counts still held when a window ends are dropped, not written: nobody reads an ended
window. Items expire through the table's TTL an hour after their window.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.core import aws
from chalicelib.core.config import get_settings
from chalicelib.core.errors import FieldError, RateLimitExceeded
from chalicelib.core.logging import logger

WINDOW_SECONDS = 60
TTL_GRACE_SECONDS = 3600
FLUSH_SECONDS = 1.0


@dataclass(frozen=True)
class Counter:
    """One limit a request counts against: ``attribute`` names its counter inside the window item."""

    attribute: str
    limit: int


@dataclass(frozen=True)
class Quota:
    limit: int
    remaining: int
    reset: int  # epoch seconds when the window ends

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }


@dataclass
class _Window:
    """One key's window as this container sees it."""

    index: int
    due: float  # when the next flush may go (epoch seconds)
    known: dict[str, int] = field(default_factory=dict)  # the shared totals the last flush returned
    pending: dict[str, int] = field(default_factory=dict)  # counted here since that flush
    flushing: bool = False

    def view(self, attribute: str) -> int:
        return self.known.get(attribute, 0) + self.pending.get(attribute, 0)


class Counts:
    """This container's windows; requests on the pool's threads (or a threaded local server) share them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[str, _Window] = {}
        self._latest = 0

    def count(self, key: str, index: int, attributes: list[str], moment: float, expires: int) -> dict[str, int]:
        """Add one to each of ``attributes`` and answer the container's view of them, flushing when due."""
        with self._lock:
            if index > self._latest:  # a new window: forget the ended ones (their counts matter to nobody)
                self._latest = index
                self._windows = {k: w for k, w in self._windows.items() if w.index >= index}
            window = self._windows.setdefault(key, _Window(index, due=moment))
            for attribute in attributes:
                window.pending[attribute] = window.pending.get(attribute, 0) + 1
            taken: dict[str, int] = {}
            if not window.flushing and moment >= window.due:
                taken, window.pending = window.pending, {}
                window.flushing, window.due = True, moment + FLUSH_SECONDS
        if taken:
            totals = _add(key, taken, expires)
            with self._lock:
                window.flushing = False
                if totals is None:  # kept for the next flush
                    for attribute, value in taken.items():
                        window.pending[attribute] = window.pending.get(attribute, 0) + value
                else:
                    window.known.update(totals)
        with self._lock:
            return {attribute: window.view(attribute) for attribute in attributes}


def _add(key: str, taken: dict[str, int], expires: int) -> dict[str, int] | None:
    """One ``UpdateItem ADD`` of what this container counted; the window's new totals, or ``None`` if it failed."""
    names = {f"#c{i}": attribute for i, attribute in enumerate(taken)}
    values = {f":c{i}": {"N": str(value)} for i, value in enumerate(taken.values())}
    try:
        response = aws.dynamodb().update_item(
            TableName=get_settings().table_name("rate-limits"),
            Key={"bucket": {"S": key}},
            UpdateExpression="ADD " + ", ".join(f"#c{i} :c{i}" for i in range(len(taken))) + " SET #ttl = :ttl",
            ExpressionAttributeNames={**names, "#ttl": "expiresAt"},
            ExpressionAttributeValues={**values, ":ttl": {"N": str(expires)}},
            ReturnValues="UPDATED_NEW",
        )
    except (BotoCoreError, ClientError):
        logger.warning("a rate-limit flush failed; its counts wait for the next one", extra={"bucket": key})
        return None
    counts = response.get("Attributes", {})
    return {attribute: int(counts[attribute]["N"]) for attribute in taken if attribute in counts}


COUNTS = Counts()


def consume(scope: str, counters: list[Counter], now: float | None = None) -> Quota | None:
    """Count one request against ``counters``; the binding quota, or ``None`` when every limit is off.

    Raises ``RateLimitExceeded`` (with the quota headers and ``Retry-After``) once a count passes its limit.
    """
    active = [c for c in counters if c.limit > 0]
    if not active:
        return None
    moment = time.time() if now is None else now
    window = int(moment // WINDOW_SECONDS)
    reset = (window + 1) * WINDOW_SECONDS
    seen = COUNTS.count(f"{scope}#{window}", window, [c.attribute for c in active], moment, reset + TTL_GRACE_SECONDS)
    used, limit = min(((seen[c.attribute], c.limit) for c in active), key=lambda q: q[1] - q[0])
    quota = Quota(limit=limit, remaining=max(0, limit - used), reset=reset)
    if used > limit:
        retry_after = max(1, math.ceil(reset - moment))
        raise RateLimitExceeded(
            f"You have exceeded the rate limit of {limit} requests per minute. "
            f"Please retry after {retry_after} seconds.",
            [FieldError("retry_after", str(retry_after))],
            headers={**quota.headers(), "Retry-After": str(retry_after)},
        )
    return quota


def for_request(tenant_id: str, api_key_id: str | None, now: float | None = None) -> Quota | None:
    """The API's limits: the tenant's on every request, the key's on top when one authenticated it."""
    settings = get_settings()
    counters = [Counter("tenant", settings.rate_limit_tenant_per_minute)]
    if api_key_id is not None:
        counters.append(Counter(f"key:{api_key_id}", settings.rate_limit_key_per_minute))
    return consume(f"{tenant_id}#api", counters, now)


def for_inbound(tenant_id: str, connection_id: str, now: float | None = None) -> Quota | None:
    """A connection's inbound deliveries, counted apart from the tenant's API calls."""
    limit = get_settings().rate_limit_inbound_per_minute
    return consume(f"{tenant_id}#inbound#{connection_id}", [Counter("deliveries", limit)], now)
