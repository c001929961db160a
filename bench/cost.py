"""The AWS call chain and the cost per million events, from the real handlers run in-process on moto.

Each scenario sends events through the platform end to end (``bench.pipeline``:
the API, the inbound consumer, the events stream, the dispatcher, the run
worker, with Lambda's event sources played by hand) and meters every AWS call
(``bench.capacity``: ours and the SQS event source mappings', with the write and
read units each DynamoDB call consumes, computed from item sizes). The dollars
come from ``bench.prices``. Lambda's GB-seconds use each handler's wall time on
this machine against moto, with a subscriber that answers at once; each
millisecond a subscriber takes adds $0.0083 per million deliveries at 512 MB
(less in a batch, which the dispatcher sends concurrently).

    .venv/bin/python -m bench.cost [--events 20]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import TYPE_CHECKING, Any

from bench import environment, prices

environment.apply()

if TYPE_CHECKING:
    from bench.capacity import Call


@dataclass
class Figures:
    """One scenario's totals over ``events`` events."""

    name: str
    events: int
    calls: list[Call]
    invocations: list[Any]

    def per_event(self, value: float) -> float:
        return value / self.events

    @property
    def ours(self) -> int:
        return sum(1 for c in self.calls if c.phase != "esm")

    @property
    def esm(self) -> int:
        return sum(1 for c in self.calls if c.phase == "esm")

    @property
    def wru(self) -> float:
        return sum(c.wru for c in self.calls)

    @property
    def rru(self) -> float:
        return sum(c.rru for c in self.calls)

    def dollars(self, front: float = prices.API_GATEWAY_REST_PER_REQUEST) -> dict[str, float]:
        """Dollars per million events, per line of the bill."""
        api_requests = sum(1 for i in self.invocations if i.phase == "api")
        gb_seconds = sum(math.ceil(i.seconds * 1000) / 1000 for i in self.invocations) * prices.LAMBDA_MEMORY_GB
        sqs = sum(c.chunks for c in self.calls if c.operation.startswith("sqs."))
        bus = sum(c.chunks for c in self.calls if c.operation == "events.PutEvents")
        secrets = sum(1 for c in self.calls if c.operation.startswith("secretsmanager."))
        bill = {
            "front": api_requests * front,
            "lambda requests": len(self.invocations) * prices.LAMBDA_PER_REQUEST,
            "lambda GB-s": gb_seconds * prices.LAMBDA_PER_GB_SECOND,
            "dynamodb writes": self.wru * prices.DYNAMODB_PER_WRU,
            "dynamodb reads": self.rru * prices.DYNAMODB_PER_RRU,
            "sqs": sqs * prices.SQS_PER_REQUEST,
            "eventbridge": bus * prices.EVENTBRIDGE_PER_ENTRY,
            "secrets manager": secrets * prices.SECRETS_MANAGER_PER_CALL,
        }
        return {line: self.per_event(value) * prices.MILLION for line, value in bill.items()}

    def total(self, front: float = prices.API_GATEWAY_REST_PER_REQUEST) -> float:
        return sum(self.dollars(front).values())


def github_push(size: int, seed: int) -> dict[str, Any]:
    """A GitHub ``push`` payload of about ``size`` bytes, shaped like a real one (repository, commits, URLs)."""
    rng = random.Random(seed)
    base = "https://api.github.com/repos/octo-org/hello-world"
    repository = {
        "id": 1296269,
        "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5",
        "name": "hello-world",
        "full_name": "octo-org/hello-world",
        "private": False,
        "owner": {
            "login": "octo-org",
            "id": 9919,
            "type": "Organization",
            "url": "https://api.github.com/users/octo-org",
        },
        **{f"{name}_url": f"{base}/{name}{{/number}}" for name in _URL_NAMES},
        "stargazers_count": 80,
        "default_branch": "main",
    }

    def commit(number: int) -> dict[str, Any]:
        sha = hashlib.sha1(f"{seed}-{number}-{rng.random()}".encode()).hexdigest()
        files = [f"src/module_{rng.randrange(400)}/file_{rng.randrange(9000)}.py" for _ in range(rng.randrange(2, 9))]
        return {
            "id": sha,
            "tree_id": hashlib.sha1(sha.encode()).hexdigest(),
            "distinct": True,
            "message": f"Fix the {rng.choice(_WORDS)} {rng.choice(_WORDS)} in {files[0]} (#{rng.randrange(9999)})",
            "timestamp": f"2024-05-{1 + number % 28:02d}T12:{number % 60:02d}:00Z",
            "url": f"https://github.com/octo-org/hello-world/commit/{sha}",
            "author": {"name": "Mona Lisa", "email": "mona@example.com", "username": "mona"},
            "committer": {"name": "GitHub", "email": "noreply@github.com", "username": "web-flow"},
            "added": files[:1],
            "removed": [],
            "modified": files[1:],
        }

    payload: dict[str, Any] = {"ref": "refs/heads/main", "repository": repository, "commits": []}
    while len(json.dumps(payload)) < size:
        payload["commits"].append(commit(len(payload["commits"])))
    payload["head_commit"] = payload["commits"][-1]
    return payload


_URL_NAMES = [
    *("archive", "assignees", "blobs", "branches", "collaborators", "comments", "commits", "compare", "contents"),
    *("contributors", "deployments", "downloads", "events", "forks", "git_commits", "git_refs", "git_tags", "hooks"),
    *("issue_comment", "issue_events", "issues", "keys", "labels", "languages", "merges", "milestones"),
    *("notifications", "pulls", "releases", "stargazers", "statuses", "subscribers", "subscription", "tags", "teams"),
    "trees",
]
_WORDS = ["parser", "cache", "retry", "handler", "token", "queue", "index", "window", "limit", "schema", "payload"]


class World:
    """Two tenants on moto: one with one subscriber, one with five; each with a GitHub connection."""

    def __init__(self, stack: ExitStack, workdir: str) -> None:
        from moto import mock_aws

        from bench.capacity import Meter
        from bench.pipeline import Pipeline
        from infra.local.atomic_writes import make_dynamodb_writes_atomic
        from infra.local.dev_issuer import DEV_AUDIENCE, DEV_ISSUER, DevIssuer
        from tests.support.fake_vendor import FakeVendor, serve_vendor
        from tests.support.jwks_server import serve_jwks

        make_dynamodb_writes_atomic()
        stack.enter_context(mock_aws())
        issuer = DevIssuer(Path(workdir) / "issuer.pem")
        jwks_url = stack.enter_context(serve_jwks(issuer.jwks()))
        os.environ.update({"JWKS_URL": jwks_url, "JWT_ISSUER": DEV_ISSUER, "JWT_AUDIENCE": DEV_AUDIENCE})
        from app import app
        from chalicelib.core.config import get_settings
        from infra.local.gateway import LocalApi
        from infra.local.provision import provision
        from tests.support.api_client import ApiClient

        get_settings.cache_clear()
        provision(get_settings().resource_prefix)
        self.stack = stack
        self.api = LocalApi(app)
        self.vendor: FakeVendor = stack.enter_context(serve_vendor())
        self.vendor.expect_bearer("bench-token")
        self.meter = Meter()
        self.meter.watch_platform()
        self.pipeline = Pipeline(self.meter)
        self.tenants: dict[int, tuple[ApiClient, dict[str, Any]]] = {}
        for subscribers in (1, 5):
            client = ApiClient(self.api, issuer.token(f"tenant-bench-{subscribers}"))
            self.tenants[subscribers] = (client, self._connect(client, subscribers))
        self.meter.take()
        self.sequence = 0

    def _connect(self, client: Any, subscribers: int) -> dict[str, Any]:
        from tests.support.receiver import serve_receiver

        connection = client.post(
            "/integrations/connections",
            {
                "providerId": "prov-github",
                "displayName": "bench",
                "credentials": {"token": "bench-token"},
                "configuration": {"baseUrl": self.vendor.url},
            },
        ).json
        for _ in range(subscribers):
            receiver = self.stack.enter_context(serve_receiver())
            made = client.post("/webhooks/subscriptions", {"endpointUrl": receiver.url, "eventTypes": ["*"]}).json
            receiver.trust(made["signingSecret"])
        return dict(connection)

    def inbound(self, subscribers: int, payload: dict[str, Any]) -> Callable[[], int]:
        from tests.inbound import signers

        client, connection = self.tenants[subscribers]
        self.sequence += 1
        body = json.dumps({**payload, "sequence": self.sequence}).encode()
        headers = {
            "Content-Type": "application/json",
            "X-GitHub-Event": "push",
            "X-GitHub-Delivery": f"bench-{self.sequence}",
            **signers.github(connection["webhookSecret"], body),
        }
        path = f"/webhooks/deliveries/{connection['connectionId']}"
        return lambda: int(client.request("POST", path, body=body, headers=headers, token="").status)

    def run(self, subscribers: int) -> Callable[[], int]:
        client, connection = self.tenants[subscribers]
        path = f"/integrations/connections/{connection['connectionId']}/operations/GetRepository"
        return lambda: int(client.post(path, {"parameters": {"owner": "octo", "repo": "hello"}}).status)

    def measure(self, name: str, events: int, batch: int, send: Callable[[], Callable[[], int]]) -> Figures:
        """Warm once, then send ``events`` in groups of ``batch``, letting each group flow to its end."""
        self.pipeline.batch_size = batch
        for _ in range(batch):
            assert self.pipeline.api(send()) < 300
        self.pipeline.settle()
        self.meter.take()
        self.pipeline.invocations.clear()
        for _ in range(events // batch):
            for _ in range(batch):
                assert self.pipeline.api(send()) < 300
            self.pipeline.settle()
        calls = [c for c in self.meter.take() if c.phase != "setup"]
        figures = Figures(name, events, calls, list(self.pipeline.invocations))
        self.pipeline.invocations.clear()
        return figures


def scenarios(world: World, events: int) -> Iterator[Figures]:
    tiny = {"ref": "refs/heads/main", "after": "6113728f27ae82c7b1a177c8d03f9e96e0adf246"}
    push = github_push(25 * 1024, seed=14)
    yield world.measure("1 inbound -> 1 subscriber", events, 1, lambda: world.inbound(1, tiny))
    yield world.measure("1 inbound -> 5 subscribers", events, 1, lambda: world.inbound(5, tiny))
    yield world.measure("batches of 10, 1 subscriber", events * 2, 10, lambda: world.inbound(1, tiny))
    yield world.measure("25 KB GitHub push -> 1 subscriber", events, 1, lambda: world.inbound(1, push))
    yield world.measure("async run -> 1 subscriber", events, 1, lambda: world.run(1))


def chain(figures: Figures) -> list[str]:
    """The calls of one event, in order, with their units (the scenario must send events one at a time)."""
    per_event = len(figures.calls) // figures.events
    lines = []
    for call in figures.calls[:per_event]:
        units = f"{call.wru:g} WRU" if call.wru else (f"{call.rru:g} RRU" if call.rru else "")
        lines.append(f"  {call.phase:<11} {call.operation:<32} {units}")
    return lines


def operations(figures: Figures) -> dict[str, float]:
    counted = Counter(f"{c.phase}: {c.operation}" for c in figures.calls)
    return {name: count / figures.events for name, count in sorted(counted.items())}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=20)
    args = parser.parse_args()
    with TemporaryDirectory() as workdir, ExitStack() as stack:
        world = World(stack, workdir)
        measured = list(scenarios(world, args.events))
    first, push = measured[0], measured[3]
    print(f"call chain, {first.name} (phase, call, units):")
    print("\n".join(chain(first)))
    print(f"call chain, {push.name}:")
    print("\n".join(chain(push)))
    print()
    width = max(len(f.name) for f in measured)
    print(f"{'per event':<{width}}  ours  esm    WRU    RRU   $/M REST  $/M HTTP API  $/M Function URL")
    for f in measured:
        print(
            f"{f.name:<{width}}  {f.per_event(f.ours):4.1f}  {f.per_event(f.esm):3.1f}  {f.per_event(f.wru):5.1f}"
            f"  {f.per_event(f.rru):5.2f}  {f.total():9.2f}  {f.total(prices.API_GATEWAY_HTTP_PER_REQUEST):12.2f}"
            f"  {f.total(prices.FUNCTION_URL_PER_REQUEST):16.2f}"
        )
    print()
    print("$ per million events, by line (REST API front):")
    lines = list(first.dollars())
    print(f"{'':<{width}}  " + "  ".join(f"{line:>15}" for line in lines))
    for f in measured:
        bill = f.dollars()
        print(f"{f.name:<{width}}  " + "  ".join(f"{bill[line]:15.2f}" for line in lines))
    print(f"for comparison: Hookdeck ${prices.HOOKDECK_PER_MILLION:.0f}/M, Svix ${prices.SVIX_PER_MILLION:.0f}/M")
    result = {
        f.name: {
            "calls": round(f.per_event(f.ours), 2),
            "esmCalls": round(f.per_event(f.esm), 2),
            "wru": round(f.per_event(f.wru), 2),
            "rru": round(f.per_event(f.rru), 2),
            "dollarsPerMillion": round(f.total(), 2),
            "httpApi": round(f.total(prices.API_GATEWAY_HTTP_PER_REQUEST), 2),
            "functionUrl": round(f.total(prices.FUNCTION_URL_PER_REQUEST), 2),
            "bill": {line: round(value, 2) for line, value in f.dollars().items()},
            "operations": operations(f),
        }
        for f in measured
    }
    print("RESULT " + json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
