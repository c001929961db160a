"""AWS calls per request for every endpoint, counted through botocore's event hooks.

Every call a client from ``chalicelib.core.aws`` makes fires ``before-call``;
the bench sends each GET endpoint (and the inbound delivery, the publish and the
run start) through the real API (the local gateway over the Chalice app) on moto,
twice, and counts the second, warm, request. It does so with the rate limits off
and on: a container adds its counts at most once a second per tenant or connection
(``chalicelib.ratelimit``), so the warm request adds no ``UpdateItem`` when it comes
within that second of the first. Path ids are those of one tenant's resources
made through the API first (``tests/reliability/resources.py``).

    .venv/bin/python -m bench.api_calls
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections import Counter
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from bench import environment

environment.apply()

LIMITS = {"RATE_LIMIT_TENANT_PER_MINUTE": "100000", "RATE_LIMIT_KEY_PER_MINUTE": "100000"}
INBOUND_LIMIT = {"RATE_LIMIT_INBOUND_PER_MINUTE": "100000"}
PARAM = re.compile(r"\{(\w+)\}")


def main() -> int:
    from moto import mock_aws

    from infra.local.dev_issuer import DEV_AUDIENCE, DEV_ISSUER, DevIssuer
    from tests.support.jwks_server import serve_jwks

    with TemporaryDirectory() as workdir, mock_aws():
        issuer = DevIssuer(Path(workdir) / "issuer.pem")
        with serve_jwks(issuer.jwks()) as jwks_url:
            os.environ.update({"JWKS_URL": jwks_url, "JWT_ISSUER": DEV_ISSUER, "JWT_AUDIENCE": DEV_AUDIENCE})
            rows = measure(issuer)
    width = max(len(label) for label in rows)
    print(f"{'request':<{width}}  limits off  limits on")
    for label, (off, on) in rows.items():
        print(f"{label:<{width}}  {off:10d}  {on:9d}")
    print("RESULT " + json.dumps({label: {"off": off, "on": on} for label, (off, on) in rows.items()}))
    return 0


def measure(issuer: Any) -> dict[str, tuple[int, int]]:
    from app import app
    from chalicelib.api.routing import OPERATIONS
    from chalicelib.core import aws
    from chalicelib.core.config import get_settings
    from infra.local.gateway import LocalApi
    from infra.local.provision import provision
    from tests.inbound import signers
    from tests.reliability.resources import make_resources
    from tests.support.api_client import ApiClient
    from tests.support.fake_vendor import serve_vendor
    from tests.support.receiver import serve_receiver

    get_settings.cache_clear()
    provision(get_settings().resource_prefix)
    client = ApiClient(LocalApi(app), issuer.token("tenant-bench"))
    calls: Counter[str] = Counter()

    def hook(model: Any, **_: Any) -> None:
        calls[f"{model.service_model.service_name}.{model.name}"] += 1

    with serve_vendor() as vendor, serve_receiver() as receiver:
        vendor.expect_bearer("bench-token")
        made = make_resources(client, vendor.url, receiver.url, {"token": "bench-token"}, key="bench")
        for service_client in (aws.dynamodb(), aws.sqs(), aws.secretsmanager()):
            service_client.meta.events.register("before-call.*.*", hook)
        secret = made.ids["webhookSecret"]
        sequence = [0]

        def inbound() -> int:
            sequence[0] += 1
            body = json.dumps({"action": "opened", "number": sequence[0]}).encode()
            headers = {
                "Content-Type": "application/json",
                "X-GitHub-Event": "pull_request",
                "X-GitHub-Delivery": f"bench-{sequence[0]}",
                **signers.github(secret, body),
            }
            path = f"/webhooks/deliveries/{made.ids['connectionId']}"
            return client.request("POST", path, body=body, headers=headers, token="").status

        requests: dict[str, Any] = {}
        for op in OPERATIONS:
            if op.method == "GET" and op.scope is not None:
                path = PARAM.sub(lambda m: made.ids[m.group(1)], op.path)
                if op.path == "/webhooks/deliveries":
                    path += f"?connectionId={made.ids['connectionId']}"
                if op.path == "/events":
                    path += "?since=2000-01-01T00:00:00Z"
                requests[f"GET {op.path}"] = lambda path=path: client.get(path).status
        key = made.ids["apiKey"]
        requests["GET /integrations/providers/{providerId} (X-API-Key)"] = lambda: (
            client.get(f"/integrations/providers/{made.ids['providerId']}", token="", headers={"X-API-Key": key}).status
        )
        requests["POST /webhooks/deliveries/{id} (inbound, signed)"] = inbound
        requests["POST /events"] = lambda: client.post("/events", {"type": "BenchEvent", "data": {}}).status
        run_path = f"/integrations/connections/{made.ids['connectionId']}/operations/GetRepository"
        requests["POST .../operations/{operation} (start a run)"] = lambda: (
            client.post(run_path, {"parameters": {"owner": "o", "repo": "r"}}).status
        )

        def count(label: str) -> int:
            requests[label]()  # warms caches (JWKS, clients, subscription list)
            calls.clear()
            status = requests[label]()
            assert status < 400, (label, status)
            return sum(calls.values())

        off = {label: count(label) for label in requests}
        os.environ.update({**LIMITS, **INBOUND_LIMIT})
        get_settings.cache_clear()
        on = {label: count(label) for label in requests}
    return {label: (off[label], on[label]) for label in requests}


if __name__ == "__main__":
    sys.exit(main())
