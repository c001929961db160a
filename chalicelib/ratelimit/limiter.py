"""Counting requests in fixed one-minute windows with one atomic DynamoDB update.

A window is one item in the rate-limits table, keyed ``<tenantId>#<scope>#<window>``.
Each request ADDs one to every counter that applies to it (the tenant's, and the
API key's when it came with one) in a single ``UpdateItem``, so the limit holds
across every Lambda instance without a read-modify-write race. The update has no
condition: it returns the new counts and the caller is refused once a count
passes its limit. Items expire through the table's TTL an hour after their window.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from chalicelib.core import aws
from chalicelib.core.config import get_settings
from chalicelib.core.errors import FieldError, RateLimitExceeded

WINDOW_SECONDS = 60
TTL_GRACE_SECONDS = 3600


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
    names = {f"#c{i}": c.attribute for i, c in enumerate(active)}
    response = aws.dynamodb().update_item(
        TableName=get_settings().table_name("rate-limits"),
        Key={"bucket": {"S": f"{scope}#{window}"}},
        UpdateExpression="ADD " + ", ".join(f"#c{i} :one" for i in range(len(active))) + " SET #ttl = :ttl",
        ExpressionAttributeNames={**names, "#ttl": "expiresAt"},
        ExpressionAttributeValues={":one": {"N": "1"}, ":ttl": {"N": str(reset + TTL_GRACE_SECONDS)}},
        ReturnValues="UPDATED_NEW",
    )
    counts = response.get("Attributes", {})
    quotas = [(int(counts.get(c.attribute, {}).get("N", "1")), c.limit) for c in active]
    used, limit = min(quotas, key=lambda q: q[1] - q[0])
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
