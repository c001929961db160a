"""A circuit breaker per connection, its state in the vendor-protection item (``chalicelib.protection.state``).

Closed: calls go through; each 5xx, timeout or unreachable vendor ADDs one to
``failures``, any other answer (2xx, 4xx, 429: the vendor is up) clears it.
After ``BREAKER_FAILURE_THRESHOLD`` consecutive failures the breaker opens:
``openUntil`` is set ``BREAKER_COOLDOWN_SECONDS`` ahead and calls are refused
without reaching the vendor (the run's error code is ``CIRCUIT_OPEN``).
Half-open: once the cool-down is over, one caller wins a conditional update of
``probeUntil`` and makes the probe call; the others stay refused until the
probe's answer closes the breaker (success) or re-opens it (failure), or until
``probeUntil`` passes (a probe that crashed).
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from chalicelib.core import aws
from chalicelib.core.config import get_settings
from chalicelib.protection import state


class BreakerState(StrEnum):
    CLOSED = "Closed"
    OPEN = "Open"
    HALF_OPEN = "HalfOpen"


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    state: BreakerState
    retry_in: float = 0.0
    probe: bool = False


def state_of(item: dict[str, float], now: float) -> BreakerState:
    open_until = item.get("openUntil")
    if open_until is None:
        return BreakerState.CLOSED
    return BreakerState.OPEN if open_until > now else BreakerState.HALF_OPEN


def admit(tenant_id: str, connection_id: str, item: dict[str, float], now: float) -> Verdict:
    """Whether a call may go to the vendor, given the state item as just read or updated."""
    current = state_of(item, now)
    if current == BreakerState.CLOSED:
        return Verdict(True, current)
    if current == BreakerState.OPEN:
        return Verdict(False, current, retry_in=item["openUntil"] - now)
    probe_window = get_settings().vendor_timeout_seconds + 5.0
    client = aws.dynamodb()
    try:
        client.update_item(
            TableName=state.table(),
            Key=state.key(tenant_id, connection_id),
            UpdateExpression="SET probeUntil = :until",
            ConditionExpression="openUntil = :seen AND (attribute_not_exists(probeUntil) OR probeUntil < :now)",
            ExpressionAttributeValues={
                ":until": state.number(now + probe_window),
                ":seen": state.number(item["openUntil"]),
                ":now": state.number(now),
            },
        )
    except client.exceptions.ConditionalCheckFailedException:
        return Verdict(False, current, retry_in=probe_window)  # another caller is probing
    return Verdict(True, current, probe=True)


def succeeded(tenant_id: str, connection_id: str, item: dict[str, float]) -> None:
    """The vendor answered: close the breaker and clear the count (no write when there is nothing to clear)."""
    if not item.get("failures") and "openUntil" not in item:
        return
    aws.dynamodb().update_item(
        TableName=state.table(),
        Key=state.key(tenant_id, connection_id),
        UpdateExpression="REMOVE failures, openUntil, probeUntil",
    )


def failed(tenant_id: str, connection_id: str, now: float) -> BreakerState:
    """Count a failure; open (or re-open, after a failed probe) once the threshold is reached."""
    settings = get_settings()
    client = aws.dynamodb()
    response = client.update_item(
        TableName=state.table(),
        Key=state.key(tenant_id, connection_id),
        UpdateExpression="ADD failures :one SET expiresAt = :ttl",
        ExpressionAttributeValues={":one": {"N": "1"}, ":ttl": {"N": str(int(now) + state.TTL_SECONDS)}},
        ReturnValues="ALL_NEW",
    )
    item = state.decoded(response.get("Attributes"))
    if item.get("failures", 0) < settings.breaker_failure_threshold or state_of(item, now) == BreakerState.OPEN:
        return state_of(item, now)
    with suppress(client.exceptions.ConditionalCheckFailedException):  # another worker may have opened it first
        client.update_item(
            TableName=state.table(),
            Key=state.key(tenant_id, connection_id),
            UpdateExpression="SET openUntil = :until REMOVE probeUntil",
            ConditionExpression="attribute_not_exists(openUntil) OR openUntil <= :now",
            ExpressionAttributeValues={
                ":until": state.number(now + settings.breaker_cooldown_seconds),
                ":now": state.number(now),
            },
        )
    return BreakerState.OPEN


def health_check(tenant_id: str, connection_id: str, now: float) -> dict[str, Any]:
    """The breaker as one health check (``passed`` closed, ``warning`` half-open, ``failed`` open)."""
    item = state.read(tenant_id, connection_id)
    current = state_of(item, now)
    status = {BreakerState.CLOSED: "passed", BreakerState.HALF_OPEN: "warning", BreakerState.OPEN: "failed"}[current]
    failures = int(item.get("failures", 0))
    check: dict[str, Any] = {
        "name": "circuitBreaker",
        "status": status,
        "state": current.value,
        "consecutiveFailures": failures,
        "message": {
            BreakerState.CLOSED: f"Closed: calls reach the vendor ({failures} consecutive vendor failures).",
            BreakerState.HALF_OPEN: "Half-open: one probe call decides whether calls reach the vendor again.",
            BreakerState.OPEN: "Open after repeated vendor failures: calls are refused without reaching the vendor.",
        }[current],
    }
    if current == BreakerState.OPEN:
        check["retryAfterSeconds"] = round(item["openUntil"] - now, 3)
    return check
