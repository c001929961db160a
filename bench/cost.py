"""The AWS call chain and the cost per million events, from the real handlers run in-process on moto.

Each scenario sends events through the platform end to end (``bench.pipeline``: the API, the events
stream, the dispatcher, the run worker, with Lambda's event sources played by hand)
and meters every AWS call (``bench.capacity``: ours and the SQS event source mappings', with the write and
read units each DynamoDB call consumes, computed from item sizes). What it prices is what a deployment of
the prod stage pays:

- the prod stage's environment from ``.chalice/config.json`` (its rate limits on), all but what a bench on
  one machine must change (``bench.environment.MACHINE_ONLY``);
- Lambda per invocation and per GB-second, each function at its declared memory (``bench.stack``), for the
  CPU time the handler used on this machine (moto's and the meter's taken out) plus the stated latencies it
  waits on: a subscriber that answers in ``SUBSCRIBER_LATENCY_MS``, a vendor in ``VENDOR_LATENCY_MS``;
- the front the template puts the ingest route behind (an HTTP API or REST), REST for the rest;
- what the functions print (logs at the stage's level, EMF metrics) as CloudWatch Logs ingests it;
- the prices in ``bench.prices``; a destination's write (SQS, SNS, EventBridge, Kinesis) on a line of its own,
  as it is billed to the account that owns the resource.

``--json`` prints ``{"scenarios": {name: dollars per million}, "assumptions": {...}, ...}``; without it, the
call chains and the tables.

    .venv/bin/python -m bench.cost [--events 20] [--json]
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, redirect_stdout
from functools import partial
from tempfile import TemporaryDirectory
from typing import Any

from bench import billing, destinations, environment, payloads, prices, stack
from bench.billing import Figures

FROM_STAGE = environment.apply(billing.STAGE)

SUBSCRIBER_LATENCY_MS = 100
VENDOR_LATENCY_MS = 300
PULL_REQUEST_BYTES = 26 * 1024


class Stdout(io.TextIOBase):
    """The functions' stdout (their logs and EMF metrics), counted in bytes as CloudWatch Logs ingests it."""

    def __init__(self) -> None:
        self.bytes = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.bytes += len(text.encode())
        return len(text)


class World:
    """Tenants on moto, each with a GitHub connection: one subscriber, five, and one per destination type."""

    def __init__(self, stack_: ExitStack, workdir: str, kinds: tuple[str, ...], stdout: Stdout) -> None:
        import os
        from pathlib import Path

        from moto import mock_aws

        from bench.capacity import Meter
        from bench.pipeline import Pipeline
        from infra.local.atomic_writes import make_dynamodb_writes_atomic
        from infra.local.dev_issuer import DEV_AUDIENCE, DEV_ISSUER, DevIssuer
        from tests.support.fake_vendor import FakeVendor, serve_vendor
        from tests.support.jwks_server import serve_jwks

        make_dynamodb_writes_atomic()
        stack_.enter_context(mock_aws())
        issuer = DevIssuer(Path(workdir) / "issuer.pem")
        jwks_url = stack_.enter_context(serve_jwks(issuer.jwks()))
        os.environ.update({"JWKS_URL": jwks_url, "JWT_ISSUER": DEV_ISSUER, "JWT_AUDIENCE": DEV_AUDIENCE})
        from app import app
        from chalicelib.core.config import get_settings
        from infra.local.gateway import LocalApi
        from infra.local.provision import provision
        from tests.support.api_client import ApiClient
        from tests.support.receiver import Receiver

        get_settings.cache_clear()
        provision(get_settings().resource_prefix)
        self.stack = stack_
        self.stdout = stdout
        self.api = LocalApi(app)
        self.vendor: FakeVendor = stack_.enter_context(serve_vendor())
        self.vendor.expect_bearer("bench-token")
        self.receivers: list[Receiver] = []
        self.meter = Meter()
        self.meter.watch_platform()
        self.pipeline = Pipeline(
            self.meter,
            subscriber_seconds=SUBSCRIBER_LATENCY_MS / 1000,
            vendor_seconds=VENDOR_LATENCY_MS / 1000,
            outbound=lambda: (sum(len(r.received) for r in self.receivers), len(self.vendor.requests)),
        )
        self.tenants: dict[str, tuple[ApiClient, dict[str, Any]]] = {}
        self.skipped: dict[str, str] = {}
        for name, subscriptions in (("1", ["webhook"]), ("5", ["webhook"] * 5), *((k, [k]) for k in kinds)):
            client = ApiClient(self.api, issuer.token(f"tenant-bench-{name}"))
            try:
                self.tenants[name] = (client, self._connect(client, f"tenant-bench-{name}", subscriptions))
            except LookupError as refused:
                self.skipped[name] = str(refused)
        self.meter.take()
        self.sequence = 0

    def _connect(self, client: Any, tenant: str, subscriptions: list[str]) -> dict[str, Any]:
        """A GitHub connection and ``subscriptions``; ``LookupError`` when a destination cannot be made here."""
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
        for kind in subscriptions:
            if kind == "webhook":  # a subscription without ``destination`` is a webhook one (issue 22)
                receiver = self.stack.enter_context(serve_receiver())
                self.receivers.append(receiver)
                made = client.post("/webhooks/subscriptions", {"endpointUrl": receiver.url, "eventTypes": ["*"]})
                receiver.trust(made.json["signingSecret"])
            else:
                destination = destinations.create(kind, tenant, client)
                made = client.post("/webhooks/subscriptions", {"destination": destination, "eventTypes": ["*"]})
                refused = [
                    d["message"] for d in made.json.get("error", {}).get("details", []) if d["field"] == "destination"
                ]
                if made.status == 400 and refused:
                    raise LookupError(f"the subscriptions API takes no destination here (400: {'; '.join(refused)})")
            if made.status != 201:
                raise SystemExit(f"a {kind} subscription was refused: {made.status} {made.json}")
        return dict(connection)

    def inbound(self, tenant: str, payload: dict[str, Any], github_event: str) -> Callable[[], int]:
        from tests.inbound import signers

        client, connection = self.tenants[tenant]
        self.sequence += 1
        body = json.dumps({**payload, "sequence": self.sequence}).encode()
        headers = {
            "Content-Type": "application/json",
            "X-GitHub-Event": github_event,
            "X-GitHub-Delivery": f"bench-{self.sequence}",
            **signers.github(connection["webhookSecret"], body),
        }
        path = f"/webhooks/deliveries/{connection['connectionId']}"
        return lambda: int(client.request("POST", path, body=body, headers=headers, token="").status)

    def run(self, tenant: str) -> Callable[[], int]:
        client, connection = self.tenants[tenant]
        path = f"/integrations/connections/{connection['connectionId']}/operations/GetRepository"
        return lambda: int(client.post(path, {"parameters": {"owner": "octo", "repo": "hello"}}).status)

    def measure(
        self, key: str, name: str, events: int, batch: int, send: Callable[[], Callable[[], int]], front: str
    ) -> Figures:
        """Warm once, then send ``events`` in groups of ``batch``, letting each group flow to its end."""
        self.pipeline.batch_size = batch
        for _ in range(batch):
            assert self.pipeline.api(send(), front) < 300
        self.pipeline.settle()
        self.meter.take()
        self.pipeline.invocations.clear()
        printed, started = self.stdout.bytes, time.perf_counter()
        for _ in range(events // batch):
            for _ in range(batch):
                assert self.pipeline.api(send(), front) < 300
            self.pipeline.settle()
        calls = [c for c in self.meter.take() if c.phase != "setup"]
        invocations, seconds = list(self.pipeline.invocations), time.perf_counter() - started
        figures = Figures(key, name, events, calls, invocations, self.stdout.bytes - printed, events / seconds)
        self.pipeline.invocations.clear()
        return figures


def scenarios(world: World, events: int, kinds: tuple[str, ...]) -> Iterator[Figures]:
    """Each scenario at batch size 1 (the worst case) but the batch row: twice the events, in whole batches."""
    tiny, pull = payloads.TINY_PUSH, payloads.github_pull_request(PULL_REQUEST_BYTES, seed=14)
    plan = [
        ("inbound_1_sub_tiny", "1 inbound -> 1 subscriber, tiny", 1, partial(world.inbound, "1", tiny, "push")),
        (
            "inbound_1_sub_26kb",
            "26 KB pull_request -> 1 subscriber",
            1,
            partial(world.inbound, "1", pull, "pull_request"),
        ),
        ("inbound_5_subs", "1 inbound -> 5 subscribers", 1, partial(world.inbound, "5", tiny, "push")),
        ("inbound_batch_10", "batches of 10, 1 subscriber", 10, partial(world.inbound, "1", tiny, "push")),
        ("async_run", "async run -> 1 subscriber", 1, partial(world.run, "1")),
        *(
            (f"destination_{k}", f"1 inbound -> 1 {k} destination", 1, partial(world.inbound, k, tiny, "push"))
            for k in kinds
        ),
    ]
    for key, name, batch, send in plan:
        front = "management" if key == "async_run" else "ingest"
        count = events if batch == 1 else max(1, events * 2 // batch) * batch
        figures = world.measure(key, name, count, batch, send, front)
        if key.startswith("destination_") and key != "destination_webhook":
            written = sum(1 for c in figures.calls if billing.is_destination_write(c))
            if written < figures.events:  # a write the meter did not see would be priced at nothing
                raise SystemExit(f"{name}: {written} destination writes metered for {figures.events} events")
        yield figures


def chain(figures: Figures) -> list[str]:
    """The calls of one event, in order, with their units (the scenario must send events one at a time)."""
    per_event = len(figures.calls) // figures.events
    lines = []
    for call in figures.calls[:per_event]:
        units = f"{call.wru:g} WRU" if call.wru else (f"{call.rru:g} RRU" if call.rru else "")
        lines.append(f"  {call.phase:<11} {call.operation:<32} {units}")
    return lines


def assumptions(events: int, skipped: dict[str, str]) -> dict[str, Any]:
    return {
        "stage": billing.STAGE,
        "stageSettings": FROM_STAGE,
        "notFromStage": {name: environment.BENCH_ENVIRONMENT[name] for name in environment.MACHINE_ONLY},
        "region": "us-east-1 list prices, on demand (bench/prices.py)",
        "lambda": "per invocation, and per GB-second of measured CPU time plus the stated waits, rounded up to 1 ms",
        "lambdaMemoryMb": {
            function: stack.memory_mb(function, billing.STAGE) for function in billing.PHASE_FUNCTIONS.values()
        },
        "subscriberLatencyMs": SUBSCRIBER_LATENCY_MS,
        "vendorLatencyMs": VENDOR_LATENCY_MS,
        "latencyWaited": "once per invocation that posts to a subscriber / calls a vendor (a batch runs concurrently)",
        "awsCallLatency": "not billed: AWS calls (destination writes too) cost their CPU here, not their round trip",
        "fronts": billing.fronts(),
        "frontPricesPerMillion": {name: price * prices.MILLION for name, price in billing.FRONT_PRICES.items()},
        "destinationWrite": "the SQS/SNS/EventBridge/Kinesis write, billed to the resource's owner: the tenant "
        "for its own queue, topic or stream; the platform for its own bus (the eventbridge row)",
        "kinesis": "on demand, $0.08 per GB in at 1 KB per record; the per-stream hour is not per event",
        "logs": "what the functions print at the stage's log level (logs, EMF metrics); Lambda's own lines not counted",
        "counters": "rate-limit and stats counters are flushed per container by time (about 1 s and 5 s), so "
        "their writes per event hold at the rate the scenario ran here (details: eventsPerSecond), fewer at more",
        "notCounted": "X-Ray traces ($5 per million recorded; xray is on, at the default sampling of 1/s plus 5%), "
        "API Gateway access logs, Lambda's own START/END/REPORT log lines, DynamoDB storage and stream fees",
        "streamReads": "free (Lambda's DynamoDB stream reads); empty SQS polls left out (per queue, not per event)",
        "events": events,
        "comparison": {"hookdeck": prices.HOOKDECK_PER_MILLION, "svix": prices.SVIX_PER_MILLION},
        "skipped": skipped,
    }


def report(measured: list[Figures], skipped: dict[str, str]) -> None:
    first, pull = measured[0], measured[1]
    for figures in (first, pull):
        print(f"call chain, {figures.name} (phase, call, units):")
        print("\n".join(chain(figures)))
    print()
    width = max(
        len(name) for name in [*(f.name for f in measured), *(f"1 inbound -> 1 {k} destination" for k in skipped)]
    )
    print(f"{'per event':<{width}}  ours  esm    WRU    RRU  EB entries  Lambda ms (CPU)      $/M")
    for f in measured:
        ms = sum(i.seconds for i in f.invocations) * 1000
        cpu = sum(i.cpu_seconds for i in f.invocations) * 1000
        print(
            f"{f.name:<{width}}  {f.per_event(f.ours):4.1f}  {f.per_event(f.esm):3.1f}  {f.per_event(f.wru):5.1f}"
            f"  {f.per_event(f.rru):5.2f}  {f.per_event(f.bus_entries):10.1f}"
            f"  {f.per_event(ms):6.1f} ({f.per_event(cpu):5.1f})  {f.total():7.2f}"
        )
    for kind, reason in skipped.items():
        print(f"{f'1 inbound -> 1 {kind} destination':<{width}}  skipped: {reason}")
    print()
    print(f"$ per million events, by line (ingest front: {billing.fronts()['ingest']}):")
    lines = list(first.bill())
    print(f"{'':<{width}}  " + "  ".join(f"{line:>17}" for line in lines))
    for f in measured:
        bill = f.bill()
        print(f"{f.name:<{width}}  " + "  ".join(f"{bill[line]:17.2f}" for line in lines))
    print(f"for comparison: Hookdeck ${prices.HOOKDECK_PER_MILLION:.0f}/M, Svix ${prices.SVIX_PER_MILLION:.0f}/M")
    print("assumptions: " + json.dumps(assumptions(first.events, skipped), indent=1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args()
    reason = destinations.supported()
    kinds = tuple(k for k in destinations.TYPES if k == "webhook" or reason is None)
    skipped = {k: reason for k in destinations.TYPES if k not in kinds and reason is not None}
    stdout = Stdout()
    with TemporaryDirectory() as workdir, ExitStack() as context, redirect_stdout(stdout):
        world = World(context, workdir, kinds, stdout)
        skipped |= world.skipped
        measured = list(scenarios(world, args.events, tuple(k for k in kinds if k in world.tenants)))
    if not args.json:
        report(measured, skipped)
        return 0
    result = {
        "scenarios": {f.key: round(f.total(), 2) for f in measured},
        "assumptions": assumptions(args.events, skipped),
        "details": {f.key: f.detail() for f in measured},
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
