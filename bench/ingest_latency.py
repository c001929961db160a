"""Ingest latency: a signed vendor delivery through the real API (the local gateway over the Chalice app) on moto.

Each sample is one warm ``POST /webhooks/deliveries/{connectionId}`` from the
request to its 202, in-process, so it is our code and the AWS calls it makes as
moto answers them (no network: a real AWS call adds its round trip on top).

``--compare DIR`` measures another checkout of the project (say the commit
before a change, ``git archive <commit> | tar -x -C DIR``) against this one on
the same machine: the two run in turn, ``--rounds`` times each, interleaved, so
a busy neighbour slows both alike; it prints each side's median and the ratio.

    .venv/bin/python -m bench.ingest_latency [--deliveries 200] [--json]
    .venv/bin/python -m bench.ingest_latency --compare /tmp/before [--rounds 5]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve()


def measure(deliveries: int) -> list[float]:
    """Seconds per warm delivery, ``deliveries`` of them (after a first, cold one)."""
    from bench import environment

    environment.apply()
    from moto import mock_aws

    with mock_aws():
        from app import app
        from chalicelib.connections import service as connections
        from chalicelib.connections.models import CreateConnectionRequest
        from chalicelib.core.config import get_settings
        from infra.local.gateway import LocalApi
        from infra.local.provision import provision

        provision(get_settings().resource_prefix)
        request = CreateConnectionRequest.model_validate(
            {"providerId": "prov-github", "displayName": "bench", "credentials": {"token": "t"}}
        )
        connection, _ = connections.create("tenant-bench", request)
        assert connection.generated_webhook_secret is not None
        secret = connection.generated_webhook_secret.get_secret_value().encode()
        api = LocalApi(app)
        path = f"/webhooks/deliveries/{connection.connection_id}"

        def deliver(number: int) -> float:
            body = json.dumps({"action": "opened", "issue": {"number": number, "title": "bench"}}).encode()
            headers = {
                "Content-Type": "application/json",
                "X-GitHub-Event": "issues",
                "X-GitHub-Delivery": f"latency-{number}",
                "X-Hub-Signature-256": "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest(),
            }
            started = time.perf_counter()
            status = api.handle("POST", path, headers, body).status
            elapsed = time.perf_counter() - started
            assert status == 202, status
            return elapsed

        deliver(0)
        return [deliver(number) for number in range(1, deliveries + 1)]


def _side(tree: Path, deliveries: int) -> float:
    """One run of this script on ``tree``'s code in a fresh interpreter: its median, in seconds."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run(
        [sys.executable, str(HERE), "--deliveries", str(deliveries), "--json"],
        cwd=tree,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return float(json.loads(out.strip().splitlines()[-1])["median_ms"]) / 1000


def compare(before: Path, rounds: int, deliveries: int) -> dict[str, float]:
    after = HERE.parent.parent
    sides: dict[str, list[float]] = {"before": [], "after": []}
    for _ in range(rounds):
        sides["before"].append(_side(before, deliveries))
        sides["after"].append(_side(after, deliveries))
    before_ms = statistics.median(sides["before"]) * 1000
    after_ms = statistics.median(sides["after"]) * 1000
    return {"before_ms": round(before_ms, 3), "after_ms": round(after_ms, 3), "ratio": round(after_ms / before_ms, 3)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--compare", type=Path, help="another checkout to measure against this one")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if args.compare is not None:
        result = compare(args.compare.resolve(), args.rounds, args.deliveries)
        print(
            json.dumps(result)
            if args.json
            else f"median ms before {result['before_ms']}, after "
            f"{result['after_ms']}: after/before = {result['ratio']} ({args.rounds} interleaved rounds each)"
        )
        return 0
    samples = sorted(measure(args.deliveries))
    median_ms = statistics.median(samples) * 1000
    p95_ms = samples[int(0.95 * (len(samples) - 1))] * 1000
    if args.json:
        print(json.dumps({"median_ms": round(median_ms, 3), "p95_ms": round(p95_ms, 3), "n": len(samples)}))
    else:
        print(f"warm ingest: median {median_ms:.2f} ms, p95 {p95_ms:.2f} ms over {len(samples)} deliveries")
    return 0


if __name__ == "__main__":
    sys.exit(main())
