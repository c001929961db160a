"""Nothing accepted is lost or sent twice under 30% AWS faults, driven as vendors and clients drive it.

One runtime of its own with ``AWS_FAULTS`` at 30% of every HTTP attempt of every
AWS service the platform calls (a fixed seed), fast webhook retries, a fast
in-flight sweeper with short deadlines, two receivers subscribed to ``*`` that
answer 500 to a seeded 5% of messages, and the tenant's SQS queue subscribed to
``*`` as a destination (its writes, and the role session's STS calls, faulted
too). Over HTTP, in a thread pool: signed GitHub deliveries (the sender retries
any non-2xx, as vendors do), runs against a fake vendor, connection lifecycle
changes and credential rotations (a client retries a 5xx with the same
``Idempotency-Key``). Then the faults stop (``AWS_FAULTS_STOP_FILE``) and, within
``Profile.settle_seconds``, every request answered 2xx must have reached a final
state visible in the API and have its event recorded, every event recorded for
the tenant must have reached both receivers and the queue, and the copies a
receiver took twice (the at-least-once window, docs/reliability.md; the test
asks for no redelivery) must stay under 1% of the sends.

``CHAOS=short`` (the default, in ``make test``) drives a seeded fifth of the load;
``CHAOS=full`` (``make chaos``) drives all of it, and its output is in docs/reliability.md.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import random
import re
import secrets
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from tests.e2e.conftest import LocalRuntime, start_runtime
from tests.support.chaos import (
    Copies,
    Ledger,
    Timing,
    api_call,
    credentials_readable,
    must,
    not_2xx,
    pages,
    recorded_events,
    retrying,
)
from tests.support.destinations import Clients, TenantResource, runtime_role
from tests.support.fake_vendor import FakeVendor, serve_vendor
from tests.support.receiver import Behaviour, Receiver, serve_receiver
from tests.support.waiting import poll

# Every service chalicelib.core.aws makes a client for.
SERVICES = ("dynamodb", "sqs", "secretsmanager", "events", "scheduler", "ses", "sns", "sts")
FAULTS = ",".join(f"{service}=0.3" for service in SERVICES)
SEED = "20240611"
ENVIRONMENT = {
    "AWS_FAULTS": FAULTS,
    "AWS_FAULTS_SEED": SEED,
    "WEBHOOK_RETRY_SCHEDULE": "1,1,2,2,3,3,5",
    "WEBHOOK_TIMEOUT_SECONDS": "5",
    "LOCAL_SCHEDULE_SCALE": "0.05",  # inflight_sweep every 3 s
    "INFLIGHT_SWEEP_RATE_MINUTES": "1",
    "HEALTH_CHECK_RATE_MINUTES": "60",  # no health sweep during the test (180 s at this scale)
    "RUN_PENDING_DEADLINE_SECONDS": "15",
    "RUN_RUNNING_DEADLINE_SECONDS": "30",
    "ROTATION_DEADLINE_SECONDS": "30",
    "RUN_RETRY_BASE_SECONDS": "0.5",
}


@dataclass(frozen=True)
class Profile:
    inbound: int
    runs: int
    lifecycle_connections: int  # five changes each
    rotations: int
    # The bound: once the faults stop, everything accepted is final and delivered within this. What is left
    # then is the backlog (about 6 inbound deliveries a second through the local runtime on 2 shared cores),
    # messages a failure left invisible (the queues' 30 s visibility timeout), webhook retries (at most 5 s
    # apart here) and the sweeper's deadlines (40 s at most); a loaded CI machine is several times slower.
    settle_seconds: float


PROFILES = {"short": Profile(60, 10, 2, 2, 150.0), "full": Profile(300, 50, 6, 5, 300.0)}
PROFILE = PROFILES[os.environ.get("CHAOS", "short")]
GITHUB_CONNECTIONS = 3
WORKERS = 8
RECEIVERS = 2
MAX_DUPLICATE_SHARE = 0.01
FINAL_RUN = {"Completed", "Failed", "Cancelled"}


@dataclass
class Accepted:
    """What the platform answered 2xx to, by kind."""

    deliveries: dict[str, str] = field(default_factory=dict)  # deliveryId -> connectionId
    runs: set[str] = field(default_factory=set)
    rotations: dict[str, str] = field(default_factory=dict)  # credentialId -> verificationRunId
    lifecycle: dict[str, int] = field(default_factory=dict)  # connectionId -> changes answered 2xx


@dataclass
class Setup:
    tenant: str
    token: str
    github: list[tuple[str, str]]  # (connectionId, webhook secret)
    runner: str
    rotating: list[tuple[str, str]]  # (connectionId, credentialId)
    lifecycle: list[str]
    queue: TenantResource  # the tenant's SQS queue, a destination subscribed to everything (written under faults)
    queued: set[str] = field(default_factory=set)  # event ids read from it so far

    @property
    def connection_ids(self) -> list[str]:
        return [c for c, _ in self.github] + [self.runner] + [c for c, _ in self.rotating] + self.lifecycle


def connect(runtime: LocalRuntime, token: str, vendor: FakeVendor, provider: str, name: str) -> dict[str, Any]:
    body = {
        "providerId": provider,
        "displayName": name,
        "credentials": {"token": f"old-{name}"},
        "configuration": {"baseUrl": vendor.url},
    }
    created: dict[str, Any] = must(
        api_call(runtime, token, "POST", "/integrations/connections", body, f"create-{name}"), 201
    )
    return created


def set_up(runtime: LocalRuntime, vendor: FakeVendor, receivers: list[Receiver]) -> Setup:
    tenant = f"tenant-chaos-{secrets.token_hex(4)}"
    token = runtime.token(tenant)
    for n, receiver in enumerate(receivers):
        body = {"eventTypes": ["*"], "endpointUrl": receiver.url}
        subscription = must(api_call(runtime, token, "POST", "/webhooks/subscriptions", body, f"chaos-sub-{n}"), 201)
        receiver.trust(subscription["signingSecret"])
    queue = TenantResource("sqs", tenant, Clients(runtime.moto_url), runtime_role(runtime.env))
    to_queue = {"eventTypes": ["*"], "destination": queue.destination}
    must(api_call(runtime, token, "POST", "/webhooks/subscriptions", to_queue, "chaos-sub-queue"), 201)
    names = (
        [("prov-github", f"github-{n}") for n in range(GITHUB_CONNECTIONS)]
        + [("prov-generic-http", "runner")]
        + [("prov-generic-http", f"rotating-{n}") for n in range(PROFILE.rotations)]
        + [("prov-generic-http", f"lifecycle-{n}") for n in range(PROFILE.lifecycle_connections)]
    )
    vendor.bearer_tokens = {f"old-{name}" for _, name in names} | {
        f"new-rotating-{n}" for n in range(PROFILE.rotations)
    }
    with ThreadPoolExecutor(WORKERS) as pool:
        made = dict(
            zip([n for _, n in names], pool.map(lambda pn: connect(runtime, token, vendor, *pn), names), strict=True)
        )
    return Setup(
        tenant=tenant,
        token=token,
        github=[
            (made[f"github-{n}"]["connectionId"], made[f"github-{n}"]["webhookSecret"])
            for n in range(GITHUB_CONNECTIONS)
        ],
        runner=made["runner"]["connectionId"],
        rotating=[
            (made[f"rotating-{n}"]["connectionId"], made[f"rotating-{n}"]["credentialId"])
            for n in range(PROFILE.rotations)
        ],
        lifecycle=[made[f"lifecycle-{n}"]["connectionId"] for n in range(PROFILE.lifecycle_connections)],
        queue=queue,
    )


def jobs(runtime: LocalRuntime, setup: Setup, ledger: Ledger, accepted: Accepted) -> list[Callable[[], None]]:
    token = setup.token

    def deliver(n: int) -> None:
        connection_id, secret = setup.github[n % len(setup.github)]
        body = json.dumps({"action": "closed", "number": n, "pull_request": {"merged": n % 2 == 0}}).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "GitHub-Hookshot/chaos",
            "X-GitHub-Event": "pull_request",
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
        }
        path = f"/webhooks/deliveries/{connection_id}"
        reply, statuses = retrying(lambda: runtime.send("POST", path, body, headers), not_2xx)
        ok = 200 <= reply.status < 300
        ledger.record("inbound", ok, statuses)
        if ok:
            accepted.deliveries[reply.json["deliveryId"]] = connection_id

    def run(n: int) -> None:
        path = f"/integrations/connections/{setup.runner}/operations/Request"
        body = {"parameters": {"path": f"/chaos/run-{n}"}}
        reply, statuses = api_call(runtime, token, "POST", path, body, f"chaos-run-{n}")
        ok = reply.status == 202
        ledger.record("runs", ok, statuses)
        if ok:
            accepted.runs.add(reply.json["runId"])

    def rotate(n: int) -> None:
        credential_id = setup.rotating[n][1]
        body = {"credentialId": credential_id, "reason": "Chaos", "credentials": {"token": f"new-rotating-{n}"}}
        reply, statuses = api_call(runtime, token, "POST", "/integrations/credentials/rotate", body, f"rot-{n}")
        run_id = reply.json.get("verificationRunId") if reply.status == 202 else None
        if reply.status == 409 and statuses:  # the 5xx'd try had claimed it: the rotation is under way
            detail = must(api_call(runtime, token, "GET", f"/integrations/credentials/{credential_id}"))
            run_id = (detail.get("rotation") or {}).get("verificationRunId")
        ledger.record("rotations", run_id is not None, statuses)
        if run_id is not None:
            accepted.rotations[credential_id] = run_id

    def change(n: int) -> None:
        connection_id = setup.lifecycle[n]
        path = f"/integrations/connections/{connection_id}"
        steps: list[tuple[str, str, Any, str | None]] = [
            ("POST", path + "/deactivate", None, "Inactive"),
            ("PATCH", path, {"displayName": f"lifecycle-{n} renamed"}, None),
            ("POST", path + "/activate", None, "Active"),
            ("PATCH", path, {"displayName": f"lifecycle-{n} again"}, None),
            ("POST", path + "/deactivate", None, "Inactive"),
        ]
        for method, url, body, wanted in steps:
            reply, statuses = api_call(runtime, token, method, url, body)
            ok = 200 <= reply.status < 300
            if reply.status == 409 and statuses and wanted is not None:  # the 5xx'd try had applied it
                ok = must(api_call(runtime, token, "GET", path))["status"] == wanted
            ledger.record("lifecycle", ok, statuses)
            if ok:
                accepted.lifecycle[connection_id] = accepted.lifecycle.get(connection_id, 0) + 1

    work: list[Callable[[], None]] = [partial(deliver, n) for n in range(PROFILE.inbound)]
    work += [partial(run, n) for n in range(PROFILE.runs)]
    work += [partial(rotate, n) for n in range(PROFILE.rotations)]
    work += [partial(change, n) for n in range(PROFILE.lifecycle_connections)]
    random.Random(int(SEED)).shuffle(work)
    return work


@dataclass
class Snapshot:
    """Where every accepted item stands, and what is still missing."""

    deliveries: dict[str, dict[str, Any]]
    runs: dict[str, dict[str, Any]]
    rotations: dict[str, dict[str, Any]]
    events: dict[str, Any]
    received: list[set[str]]  # per receiver, the event ids it answered 2xx
    problems: list[str]
    unwritten: list[str]  # verification runs of Failed rotations that were never written


def look(runtime: LocalRuntime, setup: Setup, accepted: Accepted, receivers: list[Receiver]) -> Snapshot:
    token = setup.token
    deliveries = {
        item["deliveryId"]: item
        for connection_id, _ in setup.github
        for item in pages(runtime, token, f"/webhooks/deliveries?connectionId={connection_id}")
    }
    runs = {item["runId"]: item for item in pages(runtime, token, "/integrations/runs")}
    rotations = {
        credential_id: must(api_call(runtime, token, "GET", f"/integrations/credentials/{credential_id}"))
        for credential_id in accepted.rotations
    }
    events = {e.event_id: e for e in recorded_events(runtime, setup.tenant)}
    by_kind_and_key: dict[tuple[str, str], list[str]] = {}
    for event in events.values():
        for key in ("runId", "credentialId", "connectionId"):
            if isinstance(event.data.get(key), str):
                by_kind_and_key.setdefault((event.kind, event.data[key]), []).append(event.event_id)
    setup.queued |= {arrival.body["id"] for arrival in setup.queue.arrivals()}
    received = [receiver.accepted_ids for receiver in receivers] + [setup.queued]
    problems: list[str] = []
    for delivery_id in accepted.deliveries:
        item = deliveries.get(delivery_id, {})
        if item.get("status") != "Processed":
            problems.append(f"delivery {delivery_id} is {item.get('status')} {item.get('failureReason') or ''}")
        elif item.get("eventId") not in events:
            problems.append(f"delivery {delivery_id}: its event {item.get('eventId')} is not recorded")
    # A rotation whose request failed between its claim and its verification run's insert names a run that was
    # never written; the sweeper ends such a rotation Failed (checked below). Counted and printed, not hidden:
    # the rotation start is not atomic with its run (issue 21 item 1's ground, docs/reliability.md).
    unwritten = [
        run_id
        for credential_id, run_id in accepted.rotations.items()
        if run_id not in runs and (rotations[credential_id].get("rotation") or {}).get("status") == "Failed"
    ]
    for run_id in (accepted.runs | set(accepted.rotations.values())) - set(unwritten):
        status = runs.get(run_id, {}).get("status")  # a verification run's event is the rotation's
        if status not in FINAL_RUN:
            problems.append(f"run {run_id} is {status}")
        elif run_id in accepted.runs and not by_kind_and_key.get((f"run{str(status).lower()}", run_id)):
            problems.append(f"run {run_id} is {status} but no Run{status} event is recorded")
    for credential_id, detail in rotations.items():
        status = (detail.get("rotation") or {}).get("status")
        kind = {"Rotated": "credentialrotated", "Failed": "credentialrotationfailed"}.get(status or "")
        if kind is None:
            problems.append(f"rotation of {credential_id} is {status}")
        elif not by_kind_and_key.get((kind, credential_id)):
            problems.append(f"rotation of {credential_id} is {status} but its event is not recorded")
    for connection_id, changes in accepted.lifecycle.items():
        recorded = sum(
            len(by_kind_and_key.get((kind, connection_id), []))
            for kind in ("connectionactivated", "connectiondeactivated", "connectionupdated")
        )
        if recorded < changes:
            problems.append(f"connection {connection_id}: {changes} changes accepted, {recorded} events recorded")
    problems += [
        f"event {e.event_id} ({e.type}) never reached {f'receiver {n}' if n < len(receivers) else 'the queue'}"
        for n, ids in enumerate(received)
        for e in events.values()
        if e.event_id not in ids
    ]
    return Snapshot(deliveries, runs, rotations, events, received, problems, unwritten)


def test_nothing_accepted_is_lost_or_sent_twice_under_30_percent_aws_faults(tmp_path: Path) -> None:
    started = time.monotonic()
    stop_faults = tmp_path / "faults-off"
    with ExitStack() as stack:
        vendor = stack.enter_context(serve_vendor())
        behaviour = Behaviour(fail_ratio=0.05)
        receivers = [stack.enter_context(serve_receiver(behaviour, seed=int(SEED) + n)) for n in range(RECEIVERS)]
        runtime = start_runtime(tmp_path, **ENVIRONMENT, AWS_FAULTS_STOP_FILE=str(stop_faults))
        try:
            setup = set_up(runtime, vendor, receivers)
            ledger, accepted = Ledger(), Accepted()
            driving = time.monotonic()
            with ThreadPoolExecutor(WORKERS) as pool:
                for future in [pool.submit(job) for job in jobs(runtime, setup, ledger, accepted)]:
                    future.result()
            driven = time.monotonic() - driving
            stop_faults.touch()
            stopped = time.monotonic()
            seen: list[Snapshot] = []

            def settled() -> bool:
                seen.append(look(runtime, setup, accepted, receivers))
                return not seen[-1].problems

            poll(
                settled,
                "every accepted item final and delivered once the faults stopped",
                PROFILE.settle_seconds,
                explain=lambda: f"{len(seen[-1].problems)} open: {seen[-1].problems[:20]}",
            )
            settle = time.monotonic() - stopped
            unreadable = credentials_readable(runtime, setup.token, setup.connection_ids)
        finally:
            runtime.stop()
    snapshot = seen[-1]
    faults = len(re.findall(r"injected AWS fault", runtime.output))
    copies = Copies.of(receivers)
    report(ledger, accepted, snapshot, copies, Timing(driven, settle, time.monotonic() - started), faults)
    assert all(receiver.verification_errors == [] for receiver in receivers)
    assert not unreadable, unreadable
    assert [d for d in accepted.deliveries if snapshot.deliveries[d]["status"] == "Failed"] == []
    assert copies.duplicates <= MAX_DUPLICATE_SHARE * copies.sends, copies.duplicated[:20]
    assert faults > 0, "the runtime reported no injected fault: AWS_FAULTS did not reach it"


def report(ledger: Ledger, accepted: Accepted, snapshot: Snapshot, copies: Copies, timing: Timing, faults: int) -> None:
    runs = [snapshot.runs.get(r, {}) for r in accepted.runs | set(accepted.rotations.values())]
    final = (
        sum(1 for d in accepted.deliveries if snapshot.deliveries.get(d, {}).get("status") in ("Processed", "Failed"))
        + sum(1 for r in runs if r.get("status") in FINAL_RUN)
        + sum(
            1 for d in snapshot.rotations.values() if (d.get("rotation") or {}).get("status") in ("Rotated", "Failed")
        )
        + sum(accepted.lifecycle.values())
    )
    delivered = [len(set(snapshot.events) & ids) for ids in snapshot.received]
    print(
        f"chaos: {os.environ.get('CHAOS', 'short')} run, {FAULTS} seed {SEED}: injected AWS faults={faults}"
        f"\nchaos: tried={sum(ledger.tried.values())} accepted={sum(ledger.accepted.values())} final={final}"
        f" (with {len(accepted.rotations)} verification runs)"
    )
    for kind in ("inbound", "runs", "lifecycle", "rotations"):
        print(f"chaos: {kind} tried={ledger.tried[kind]} accepted={ledger.accepted[kind]}")
    statuses: dict[str, int] = {}
    for r in runs:
        statuses[str(r.get("status"))] = statuses.get(str(r.get("status")), 0) + 1
    rotation_states = [str((d.get("rotation") or {}).get("status")) for d in snapshot.rotations.values()]
    print(
        f"chaos: runs by status {statuses}; rotations {sorted(rotation_states)};"
        f" verification runs never written (rotation Failed) {len(snapshot.unwritten)}"
    )
    failed_runs = [f"{r.get('runId')}: {r.get('error')}" for r in runs if r.get("status") == "Failed"]
    if failed_runs:
        print("chaos: failed runs " + "; ".join(failed_runs[:5]))
    print(
        f"chaos: events recorded={len(snapshot.events)} delivered per subscriber={delivered}"
        f" client retries by status={dict(ledger.retried_statuses)}"
    )
    print(
        f"chaos: sends={copies.sends} (2xx {copies.accepted}) duplicates={copies.duplicates}"
        f" ({100 * copies.duplicates / max(1, copies.sends):.2f}% of sends; asked-for redeliveries 0)"
    )
    print(
        f"chaos: drive {timing.driven:.1f}s, settle after the faults stopped {timing.settle:.1f}s"
        f" (bound {PROFILE.settle_seconds:g}s), wall {timing.wall:.1f}s"
    )
