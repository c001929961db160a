"""A token bucket toward a vendor, shared by every Lambda: GCRA on one DynamoDB item.

``rateLimit: {"requestsPerSecond": r, "burst": b}`` allows ``b`` calls at once
and ``r`` a second after. GCRA keeps one number, the theoretical arrival time
``tat``: a call at ``now`` is allowed when ``tat - now <= (b - 1) / r`` and moves
``tat`` to ``max(tat, now) + 1 / r``. DynamoDB cannot take a ``max`` in an update
expression, so the two cases are two conditional updates, and the process
picks one from the ``tat`` it last saw: when no other worker moved ``tat`` in
between, the guess is right and a call costs one ``UpdateItem``; a wrong guess
costs one more.
A refused condition returns the stored item (``ReturnValuesOnConditionCheckFailure``),
so an empty bucket is one call too, and says exactly how long to wait.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from chalicelib.core import aws
from chalicelib.protection import state

MAX_TRIES = 4
_last_tat: dict[str, float] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class RateLimit:
    requests_per_second: float
    burst: int = 1

    @classmethod
    def of(cls, configuration: dict[str, Any]) -> RateLimit | None:
        """The connection's ``configuration.rateLimit`` (validated at write by the provider schema), or None."""
        raw = configuration.get("rateLimit")
        if not isinstance(raw, dict) or not raw.get("requestsPerSecond"):
            return None
        return cls(float(raw["requestsPerSecond"]), int(raw.get("burst") or 1))


@dataclass(frozen=True)
class Taken:
    """``wait`` is 0 when a token was taken, else the seconds until one is; ``item`` is the state item after."""

    wait: float
    item: dict[str, float]
    calls: int


def take(tenant_id: str, connection_id: str, limit: RateLimit, now: float) -> Taken:
    interval = 1.0 / limit.requests_per_second
    tolerance = (limit.burst - 1) * interval
    client = aws.dynamodb()
    name = f"{tenant_id}#{connection_id}"
    busy = _last_tat.get(name, 0.0) >= now
    calls = 0
    seen: dict[str, float] = {}
    for _ in range(MAX_TRIES):
        calls += 1
        if busy:
            update = "SET tat = tat + :i, expiresAt = :ttl"
            condition = "tat BETWEEN :now AND :latest"
            values = {":i": state.number(interval), ":now": state.number(now), ":latest": state.number(now + tolerance)}
        else:
            update = "SET tat = :next, expiresAt = :ttl"
            condition = "attribute_not_exists(tat) OR tat < :now"
            values = {":next": state.number(now + interval), ":now": state.number(now)}
        values[":ttl"] = {"N": str(int(now) + state.TTL_SECONDS)}
        try:
            response = client.update_item(
                TableName=state.table(),
                Key=state.key(tenant_id, connection_id),
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except client.exceptions.ConditionalCheckFailedException as exc:
            returned: dict[str, Any] = dict(exc.response)
            seen = state.decoded(returned.get("Item"))
            tat = seen.get("tat")
            if tat is not None and tat > now + tolerance:
                _remember(name, tat)
                return Taken(wait=tat - now - tolerance, item=seen, calls=calls)
            busy = tat is not None and tat >= now  # the other case applies: try it
            continue
        item = state.decoded(response.get("Attributes"))
        _remember(name, item.get("tat", 0.0))
        return Taken(wait=0.0, item=item, calls=calls)
    return Taken(wait=interval, item=seen, calls=calls)  # raced every time: come back after one interval


def _remember(name: str, tat: float) -> None:
    with _lock:
        _last_tat[name] = tat
