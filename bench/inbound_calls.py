"""AWS calls per accepted inbound delivery, counted through botocore's event hooks.

Every call any client from ``chalicelib.core.aws`` makes fires ``before-call``;
the bench counts them per delivery sent through the real API (the local
gateway over the Chalice app) against moto. The design target is 1 when warm:
the conditional put of the one item that stores, dedupes and records the event.

    .venv/bin/python -m bench.inbound_calls [--deliveries 50]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import sys
from collections import Counter
from typing import Any

from bench import environment

environment.apply()
WARM_TARGET = 1


class CallCounter:
    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def __call__(self, event_name: str, **_: Any) -> None:
        service, operation = event_name.split(".", 2)[1:]
        self.calls[f"{service}.{operation}"] += 1

    def take(self) -> Counter[str]:
        taken, self.calls = self.calls, Counter()
        return taken


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=50)
    args = parser.parse_args()

    from moto import mock_aws

    with mock_aws():
        from app import app
        from chalicelib.connections import service as connections
        from chalicelib.connections.models import CreateConnectionRequest
        from chalicelib.core import aws
        from chalicelib.core.config import get_settings
        from infra.local.gateway import LocalApi
        from infra.local.provision import provision

        provision(get_settings().resource_prefix)
        request = CreateConnectionRequest.model_validate(
            {"providerId": "prov-github", "displayName": "bench", "credentials": {"token": "t"}}
        )
        connection, _ = connections.create("tenant-bench", request)
        assert connection.generated_webhook_secret is not None
        secret = connection.generated_webhook_secret.get_secret_value()
        api = LocalApi(app)
        counter = CallCounter()
        for client in (aws.dynamodb(), aws.sqs(), aws.secretsmanager()):
            client.meta.events.register("before-call", counter)

        def deliver(number: int, delivery_id: str | None = None) -> int:
            body = json.dumps({"action": "opened", "number": number}).encode()
            signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            headers = {
                "Content-Type": "application/json",
                "X-GitHub-Event": "pull_request",
                "X-GitHub-Delivery": delivery_id or f"bench-{number}",
                "X-Hub-Signature-256": signature,
            }
            return api.handle("POST", f"/webhooks/deliveries/{connection.connection_id}", headers, body).status

        counter.take()
        assert deliver(0) == 202
        cold = counter.take()
        warm: list[int] = []
        operations: Counter[str] = Counter()
        for number in range(1, args.deliveries + 1):
            assert deliver(number) == 202
            taken = counter.take()
            warm.append(sum(taken.values()))
            operations.update(taken)
        assert deliver(99, delivery_id="bench-1") == 200
        duplicate = counter.take()

    per_delivery = sum(warm) / len(warm)
    print(f"cold (first) delivery: {sum(cold.values())} AWS calls  {dict(sorted(cold.items()))}")
    print(f"warm deliveries:       {per_delivery:.2f} AWS calls each over {len(warm)} (max {max(warm)})")
    print(f"                       {dict(sorted(operations.items()))}")
    print(f"duplicate delivery:    {sum(duplicate.values())} AWS calls  {dict(sorted(duplicate.items()))}")
    print(f"target when warm:      {WARM_TARGET}  -> {'met' if max(warm) <= WARM_TARGET else 'MISSED'}")
    return 0 if max(warm) <= WARM_TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
