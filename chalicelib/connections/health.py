"""A connection's health: probing the vendor with the adapter's health check, and recording the outcome.

The API (``/test``, ``/health/check``) and the scheduled sweep call the same
``probe``. Recording is a conditional update that never lets an older check
overwrite a newer one and never revives a deactivated or deleted connection;
``ConnectionHealthChanged`` is emitted only when the recorded status changes.
A vendor that is down is an ``Unhealthy`` result, never an exception.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from chalicelib.connections import secret, store
from chalicelib.connections.models import Connection, ConnectionStatus, Health
from chalicelib.core import tracing
from chalicelib.core.config import get_settings
from chalicelib.core.context import current_trace_id
from chalicelib.core.errors import Conflict, CredentialUnavailable, NotFound
from chalicelib.core.models import WireModel
from chalicelib.core.timestamps import Timestamp, now_text
from chalicelib.events import catalog
from chalicelib.events.emit import commit, new_event
from chalicelib.events.models import PlatformEvent
from chalicelib.protection import breaker, guard
from chalicelib.stats import read
from chalicelib.stats import record as stats
from chalicelib.stats.models import HealthMetrics

if TYPE_CHECKING:
    from chalicelib.adapters.base import HealthReport

CheckStatus = Literal["passed", "failed", "warning"]
# Below this share of the vendor's rate limit left, the ``rateLimit`` check warns.
RATE_LIMIT_WARNING = 0.10
# Checks stored before the list shape (a map of Pass/Fail/Skipped) read as the new statuses.
_LEGACY_STATUS: dict[str, CheckStatus] = {"Pass": "passed", "Fail": "failed", "Skipped": "warning"}
# The ``operation`` annotation of a health check's X-Ray subsegment (a test and a rotation's check are one too).
HEALTH_OPERATION = "health_check"


class HealthCheck(WireModel):
    """001's check: what was checked, how it went and why."""

    name: str
    status: CheckStatus
    latency_ms: int | None = None
    message: str


class ConnectionHealth(WireModel):
    connection_id: str
    status: Health
    last_check: Timestamp | None = None
    last_check_failed_at: Timestamp | None = None
    message: str | None = None
    latency_ms: int | None = None
    checks: list[HealthCheck] = []
    metrics: HealthMetrics | None = None
    trace_id: str | None = None


class ConnectionTestResult(WireModel):
    success: bool
    latency_ms: int
    message: str
    timestamp: Timestamp


class ConnectionTest(WireModel):
    """001's ``connection_test`` shape in camelCase; nothing is recorded."""

    connection_id: str
    connection_test: ConnectionTestResult
    trace_id: str | None = None


@dataclass(frozen=True)
class Probe:
    status: Health
    message: str
    latency_ms: int
    checks: list[HealthCheck]
    checked_at: str
    tools: list[dict[str, Any]] | None = None  # an MCP server's catalogue, stored with the result


def _checks(report: HealthReport, latency_ms: int) -> list[HealthCheck]:
    """Split one vendor answer into the checks a person reads: reached it, was let in, not throttled, allowed."""
    status = report.vendor_status
    if status is None and not report.healthy:
        return [
            HealthCheck(name="connection", status="failed", latency_ms=latency_ms, message=report.message),
            HealthCheck(name="authentication", status="warning", message="Not checked: the vendor was not reached."),
        ]
    checks = [
        HealthCheck(name="connection", status="passed", latency_ms=latency_ms, message=f"The vendor answered {status}.")
    ]
    if status in (401, 403):
        checks.append(HealthCheck(name="authentication", status="failed", message=report.message))
    else:
        checks.append(
            HealthCheck(name="authentication", status="passed", message="The vendor accepted the credential.")
        )
    limit = (
        HealthCheck(name="rateLimit", status="failed", message=report.message)
        if status == 429
        else _rate_limit(report.headers)
    )
    permissions = _permissions(report.headers)
    return checks + [check for check in (limit, permissions) if check is not None]


def _rate_limit(headers: Mapping[str, str]) -> HealthCheck | None:
    """From ``X-RateLimit-Remaining``/``X-RateLimit-Limit`` (GitHub and others), when the vendor sends them."""
    try:
        remaining, limit = int(headers["x-ratelimit-remaining"]), int(headers["x-ratelimit-limit"])
    except (KeyError, ValueError):
        return None
    if limit <= 0:
        return None
    message = f"Rate limit: {remaining}/{limit} remaining"
    if remaining <= 0:
        return HealthCheck(name="rateLimit", status="failed", message=message + "; calls are refused until it resets.")
    if remaining < limit * RATE_LIMIT_WARNING:
        return HealthCheck(name="rateLimit", status="warning", message=message)
    return HealthCheck(name="rateLimit", status="passed", message=message)


def _permissions(headers: Mapping[str, str]) -> HealthCheck | None:
    """From ``X-OAuth-Scopes`` (GitHub): the scopes the credential grants; none granted is a warning."""
    scopes = headers.get("x-oauth-scopes")
    if scopes is None:
        return None
    granted = [scope.strip() for scope in scopes.split(",") if scope.strip()]
    if not granted:
        return HealthCheck(name="permissions", status="warning", message="The credential grants no OAuth scopes.")
    return HealthCheck(name="permissions", status="passed", message="Granted scopes: " + ", ".join(granted))


def _stored_checks(stored: Any) -> list[HealthCheck]:
    """The list as recorded; a map recorded before the list shape is read as one."""
    if isinstance(stored, dict):
        return [
            HealthCheck(name=name, status=_LEGACY_STATUS.get(check.get("status"), "warning"), message=check["message"])
            for name, check in stored.items()
        ]
    return [HealthCheck.model_validate(check) for check in stored or []]


def _count_call(connection: Connection, report: HealthReport, latency_ms: int) -> None:
    stats.record(
        stats.for_connection(connection.tenant_id, connection.connection_id).timed("call", report.healthy, latency_ms)
    )


def _report(connection: Connection, credential_values: dict[str, Any]) -> tuple[HealthReport, int]:
    """The adapter's health check and the milliseconds the vendor took (not the guard's own call)."""
    # The adapters load when a vendor is called: the sweep's jobs, their dead letters and the rotation
    # function read and write connections first, and some never call a vendor (docs/performance.md).
    from chalicelib.adapters.auth import Credential
    from chalicelib.adapters.base import ExecutionContext, HealthReport
    from chalicelib.adapters.registry import adapter_for
    from chalicelib.providers import service as providers

    provider = providers.find(connection.tenant_id, connection.provider_id)
    if provider is None:
        return HealthReport(False, f"Provider '{connection.provider_id}' no longer exists."), 0
    context = ExecutionContext(
        base_url=provider.base_url,
        configuration=connection.configuration,
        timeout=get_settings().health_check_timeout_seconds,
    )
    adapter = adapter_for(provider)
    annotations = {"call": "vendor", "provider": adapter.provider_key, "operation": HEALTH_OPERATION}
    ids = {"providerId": provider.provider_id, "connectionId": connection.connection_id}
    ticket = guard.admit(connection)  # ``guard.Held``: the vendor is not called
    started = time.monotonic()
    with tracing.subsegment(adapter.provider_key, annotations, ids) as span:
        report = adapter.health_check(Credential(connection.auth_mode, credential_values), context)
        unanswered = not report.healthy and report.vendor_status is None
        span.finish("succeeded" if report.healthy else "failed", report.vendor_status, no_answer=unanswered)
    latency = round((time.monotonic() - started) * 1000)
    # What the breaker counts, as for runs: no answer or a 5xx; a 4xx or a 429 means the vendor is up.
    guard.settle(ticket, vendor_down=unanswered or (not report.healthy and (report.vendor_status or 0) >= 500))
    return report, latency


def verify(connection: Connection, credential_values: dict[str, Any]) -> tuple[HealthReport, int]:
    """One health check with the given credential value (rotation verifies a pending one); latency in ms.

    ``guard.Held`` when the connection's vendor protection holds the call back.
    """
    report, latency = _report(connection, credential_values)
    _count_call(connection, report, latency)
    return report, latency


def probe(connection: Connection) -> Probe:
    """Check with AWSCURRENT; a 401 re-reads it, since a cached value may predate a rotation, and checks again if it
    changed.

    ``CredentialUnavailable`` when the secret cannot be used, ``guard.Held`` when the vendor's rate limit or
    circuit breaker holds a call back: the vendor is not called (again).
    """
    cached = secret.credential(connection).values
    report, latency = _report(connection, cached)
    if report.vendor_status == 401 and (current := secret.credential(connection, refresh=True).values) != cached:
        report, again = _report(connection, current)
        latency += again
    _count_call(connection, report, latency)
    checks = _checks(report, latency)
    # A throttled vendor still answered and accepted the credential: the connection works, slowly.
    healthy = report.healthy or report.vendor_status == 429
    status = Health.HEALTHY if healthy else Health.UNHEALTHY
    return Probe(status, report.message, latency, checks, now_text(), report.tools)


def unusable(reason: CredentialUnavailable) -> Probe:
    """The result recorded when the secret cannot be used: Unhealthy, with the reason; the vendor was not called."""
    checks = [
        HealthCheck(name="credential", status="failed", message=reason.message),
        HealthCheck(name="connection", status="warning", message="Not checked: the vendor was not called."),
    ]
    return Probe(Health.UNHEALTHY, reason.message, 0, checks, now_text())


def record(connection: Connection, result: Probe, sweep_id: str | None = None) -> bool:
    """Store the result unless a newer one is; a status transition commits its event with it. ``False`` if not stored.

    The transition is judged against the health the caller read with the connection: the write is
    conditional on it still being there, so two concurrent checks cannot both announce one transition.
    """
    changes: dict[str, Any] = {
        "health": result.status.value,
        "lastCheckedAt": result.checked_at,
        "healthMessage": result.message,
        "healthLatencyMs": result.latency_ms,
        "healthChecks": [check.model_dump(by_alias=True, exclude_none=True) for check in result.checks],
    }
    if sweep_id is not None:
        changes["lastSweepId"] = sweep_id
    if _tools_changed(connection, result):
        changes["discoveredTools"] = result.tools
    previous = connection.health.value if connection.health else Health.UNKNOWN.value
    entry = store.TABLE.update_entry(
        connection.tenant_id,
        connection.connection_id,
        changes,
        condition=(
            "#status = :active AND (attribute_not_exists(#checked) OR #checked <= :at) AND "
            "(attribute_not_exists(#health) OR #health = :previous)"
        ),
        condition_values={":active": ConnectionStatus.ACTIVE.value, ":at": result.checked_at, ":previous": previous},
        condition_names={"#status": "status", "#checked": "lastCheckedAt", "#health": "health"},
    )
    event = _transition(connection, previous, result) if previous != result.status.value else None
    return commit(entry, event)


def _tools_changed(connection: Connection, result: Probe) -> bool:
    """An MCP server's catalogue (up to 200 KB) is written only when it differs from the one the item holds."""
    return result.tools is not None and result.tools != connection.discovered_tools


def _transition(connection: Connection, previous: str, result: Probe) -> PlatformEvent:
    material = f"{connection.tenant_id}/{connection.connection_id}/{result.checked_at}/{previous}/{result.status.value}"
    return new_event(
        connection.tenant_id,
        catalog.CONNECTION_HEALTH_CHANGED,
        {
            "connectionId": connection.connection_id,
            "providerId": connection.provider_id,
            "previousStatus": previous,
            "status": result.status.value,
            "message": result.message,
            "checkedAt": result.checked_at,
        },
        source="platform.health",
        event_id="evt-" + hashlib.sha256(material.encode()).hexdigest()[:24],
    )


def unchecked_entry(
    tenant_id: str, connection_id: str, message: str, failed_at: str, enqueued_at: str
) -> dict[str, Any]:
    """The check job for this connection failed every try: health ``Unknown``, with why and when.

    Conditional on the connection being there and Active, and on no check recorded since the job
    was enqueued (that one knows better); committed together with its event.
    """
    entry = store.TABLE.update_entry(
        tenant_id,
        connection_id,
        {"health": Health.UNKNOWN.value, "healthMessage": message, "lastCheckFailedAt": failed_at},
        condition="#status = :active AND (attribute_not_exists(#checked) OR #checked < :enqueued)",
        condition_values={":active": ConnectionStatus.ACTIVE.value, ":enqueued": enqueued_at},
        condition_names={"#status": "status", "#checked": "lastCheckedAt"},
        remove=["healthChecks", "healthLatencyMs"],
    )
    return entry


def _connection(tenant_id: str, connection_id: str) -> Connection:
    connection = store.get(tenant_id, connection_id)
    if connection is None:
        raise NotFound(f"Connection '{connection_id}' was not found.")
    return connection


def view(tenant_id: str, connection_id: str) -> ConnectionHealth:
    item = store.get_item(tenant_id, connection_id)
    if item is None:
        raise NotFound(f"Connection '{connection_id}' was not found.")
    return ConnectionHealth(
        connection_id=connection_id,
        status=Health(item.get("health", Health.UNKNOWN.value)),
        last_check=item.get("lastCheckedAt"),
        last_check_failed_at=item.get("lastCheckFailedAt"),
        message=item.get("healthMessage"),
        latency_ms=item.get("healthLatencyMs"),
        checks=[*_stored_checks(item.get("healthChecks")), _breaker_check(tenant_id, connection_id)],
        metrics=read.health_metrics(tenant_id, connection_id),
        trace_id=current_trace_id(),
    )


def _breaker_check(tenant_id: str, connection_id: str) -> HealthCheck:
    """The circuit breaker's state now (it changes between probes, so it is read, never stored)."""
    check = breaker.health_check(tenant_id, connection_id, time.time())
    return HealthCheck(name=check["name"], status=check["status"], message=check["message"])


def check_now(tenant_id: str, connection_id: str) -> ConnectionHealth:
    """``POST .../health/check``: probe and record synchronously, as the sweep would."""
    connection = _connection(tenant_id, connection_id)
    if connection.status != ConnectionStatus.ACTIVE:
        raise Conflict(f"Connection '{connection_id}' is {connection.status}; health checks need an Active one.")
    try:
        result = probe(connection)
    except CredentialUnavailable as reason:
        record(connection, unusable(reason))  # GET .../health shows it, as after a sweep
        raise
    except guard.Held as held:
        raise guard.refusal(held, connection_id) from None
    record(connection, result)
    return view(tenant_id, connection_id)


def try_connection(tenant_id: str, connection_id: str) -> ConnectionTest:
    """``POST .../test``: one vendor call, reported and not recorded, allowed while Inactive (test before use)."""
    connection = _connection(tenant_id, connection_id)
    try:
        result = probe(connection)
    except guard.Held as held:
        raise guard.refusal(held, connection_id) from None
    if _tools_changed(connection, result):  # the health result is not recorded, but what the server offers now is
        store.TABLE.update(tenant_id, connection_id, {"discoveredTools": result.tools})
    return ConnectionTest(
        connection_id=connection_id,
        connection_test=ConnectionTestResult(
            success=result.status == Health.HEALTHY,
            latency_ms=result.latency_ms,
            message=result.message,
            timestamp=result.checked_at,
        ),
        trace_id=current_trace_id(),
    )


def check_for_sweep(tenant_id: str, connection_id: str, sweep_id: str) -> bool:
    """One sweep job: skipped when the connection went away, went inactive, or this sweep already checked it.

    ``guard.Held`` when the vendor's protection holds the check back (nothing recorded): the sweep defers the job.
    """
    item = store.get_item(tenant_id, connection_id)
    if item is None or item.get("status") != ConnectionStatus.ACTIVE.value or item.get("lastSweepId") == sweep_id:
        return False
    connection = Connection.model_validate(item)
    try:
        result = probe(connection)
    except CredentialUnavailable as reason:
        result = unusable(reason)  # recorded, not retried: the job would fail the same way every time
    return record(connection, result, sweep_id)
