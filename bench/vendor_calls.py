"""AWS calls a vendor call costs for its protection (rate limit and circuit breaker), counted on moto.

Each scenario drives ``chalicelib.protection.guard`` for one connection as the
runs worker does around one vendor call (``admit`` before, ``settle`` after) and
counts the DynamoDB calls through botocore's ``before-call`` hook. The figures
are exact counts, not timings, so moto gives the same numbers AWS would.

    .venv/bin/python -m bench.vendor_calls
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from typing import Any

from bench import environment

environment.apply(BREAKER_FAILURE_THRESHOLD="3", BREAKER_COOLDOWN_SECONDS="30")
T0 = 1_800_000_000.0


def main() -> int:
    from moto import mock_aws

    with mock_aws():
        rows = measure()
    width = max(len(label) for label in rows)
    print(f"{'vendor call':<{width}}  DynamoDB calls")
    for label, count in rows.items():
        print(f"{label:<{width}}  {count:14.2f}")
    print("RESULT " + json.dumps(rows))
    return 0


def measure() -> dict[str, float]:
    from chalicelib.connections.models import Connection
    from chalicelib.core import aws
    from chalicelib.core.config import get_settings
    from chalicelib.protection import guard
    from infra.local.provision import provision

    get_settings.cache_clear()
    provision(get_settings().resource_prefix)
    calls: Counter[str] = Counter()
    aws.dynamodb().meta.events.register("before-call.*.*", lambda model, **_: calls.update([model.name]))

    def connection(connection_id: str, rate_limit: dict[str, Any] | None) -> Connection:
        return Connection.model_validate(
            {
                "connectionId": connection_id,
                "tenantId": "tenant-bench",
                "providerId": "prov-github",
                "displayName": "bench",
                "authMode": "BearerToken",
                "status": "Active",
                "health": "Unknown",
                "establishedAt": "2026-01-01T00:00:00.000Z",
                "credentialRef": "kv://bench",
                "credentialId": "cred-bench",
                "configuration": {"rateLimit": rate_limit} if rate_limit else {},
            }
        )

    def per_call(conn: Connection, moments: list[float], *, down: bool = False) -> float:
        calls.clear()
        for moment in moments:
            try:
                ticket = guard.admit(conn, now=moment)
            except guard.Held:
                continue
            guard.settle(ticket, vendor_down=down, now=moment)
        return sum(calls.values()) / len(moments)

    steady = [T0 + i * 0.01 for i in range(100)]  # 100 calls/s
    rows = {
        "no rateLimit, breaker closed": per_call(connection("c1", None), steady),
        "rateLimit above the call rate (one worker)": per_call(
            connection("c2", {"requestsPerSecond": 1000, "burst": 10}), steady
        ),
        "rateLimit at the call rate (one worker)": per_call(
            connection("c3", {"requestsPerSecond": 100, "burst": 10}), steady
        ),
        "rateLimit, empty bucket (held, no vendor call)": per_call(
            connection("c4", {"requestsPerSecond": 1, "burst": 1}), [T0 + i * 0.01 for i in range(1, 100)]
        ),
    }
    from chalicelib.protection import bucket

    workers: list[dict[str, float]] = [{}, {}]

    def alternate(conn: Connection, moments: list[float]) -> float:
        """Two workers taking turns: each one's remembered ``tat`` is the other's old news."""
        total = 0.0
        for index, moment in enumerate(moments):
            bucket._last_tat.clear()
            bucket._last_tat.update(workers[index % 2])
            total += per_call(conn, [moment])
            workers[index % 2] = dict(bucket._last_tat)
        return total / len(moments)

    rows["rateLimit at the call rate, two workers alternating"] = alternate(
        connection("c6", {"requestsPerSecond": 100, "burst": 10}), steady
    )
    failing = connection("c5", None)
    rows["vendor down (5xx/timeout), breaker closed"] = per_call(failing, [T0, T0 + 1], down=True)
    rows["vendor down, the failure that opens the breaker"] = per_call(failing, [T0 + 2], down=True)
    rows["breaker open (refused, no vendor call)"] = per_call(failing, [T0 + 3, T0 + 4])
    rows["half-open probe that succeeds (closes)"] = per_call(failing, [T0 + 40])
    return rows


if __name__ == "__main__":
    sys.exit(main())
