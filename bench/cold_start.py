"""Cold start as Lambda runs it: each packaged function, to its first AWS client, against the stack floor.

``build/deployment.zip`` (rebuilt by ``make package`` when older than the code)
is unpacked into a read-only directory, as ``/var/task`` is. Each sample is a
fresh interpreter with ``PYTHONDONTWRITEBYTECODE=1``, no site-packages, and on
``sys.path`` only that directory and a directory holding boto3 and its
dependencies (the Lambda Python runtime provides them, compiled). The process
gets the function's environment: the stage's variables and ``_HANDLER``, which
Lambda sets to the function's handler (``app.outbound_dispatch``).

What is timed, inside the process (interpreter start-up is left out of both):

- a function: what Lambda's init does (``import app``, look the handler up),
  then the handler invoked with an event of its source (an SQS record, a stream
  record, a schedule tick, an API request with an API key, a rotation step),
  until its first client from ``chalicelib.core.aws`` exists. There the bench
  stops it: what comes next is the AWS call itself;
- the stack floor, what every Lambda on this product's stack pays (docs/decisions.md,
  DESIGN "Third wave"): ``import boto3``, one client, ``from chalice import Chalice``,
  ``from pydantic import BaseModel``. The targets are against it;
- the old floor, the same without pydantic, which the figures before issue 20
  were measured against; its ratios are printed too, so both stay comparable.

Each row is the median over ``--runs`` rounds (both floors are sampled in every
round, interleaved with the functions, so all see the same machine load); the
ratio uses CPU time, which a busy machine disturbs less than wall time.
Targets: 1.3 (moonshot 1.15) of the stack floor.

``--against OLD.zip`` also samples every function from another package in the
same rounds (interleaved with this one's and the floors'), and prints its
ratios beside: a before/after comparison under one machine load.

    .venv/bin/python -m bench.cold_start [--runs 7] [--zip build/deployment.zip] [--against OLD.zip] [--importtime 10]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from bench import environment

ROOT = Path(__file__).resolve().parent.parent
ZIP = ROOT / "build" / "deployment.zip"
TEMPLATE = ROOT / "build" / "sam.json"
TARGET_RATIO = 1.3
MOONSHOT_RATIO = 1.15
# What /var/runtime gives a Python 3.11 Lambda besides the standard library.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")

Samples = dict[str, list[tuple[float, float, str]]]  # per function: (wall ms, cpu ms, first client) per run
OLD_FLOOR = "import boto3; boto3.client('sqs', region_name='us-east-1'); from chalice import Chalice"
FLOOR = OLD_FLOOR + "; from pydantic import BaseModel"
FLOORS = {"floor": FLOOR, "old floor": OLD_FLOOR}  # sampled, not reported as functions
FUNCTION = """
import app
handler = getattr(app, {attribute!r})
from chalicelib.core import aws
create = aws._client
class Reached(BaseException):
    pass
def first_client(service):
    create(service)
    raise Reached(service)
aws._client = first_client
try:
    handler({event!r}, Context())
except Reached as reached:
    print("CLIENT", reached.args[0])
"""
TIMED = """
import time
w, c = time.perf_counter(), time.process_time()
{code}
print("TIMES", time.perf_counter() - w, time.process_time() - c)
"""
CONTEXT = """
class Context:
    function_name = "bench"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    memory_limit_in_mb = 512
    aws_request_id = "00000000-0000-0000-0000-000000000000"
    log_group_name = "/aws/lambda/bench"
    log_stream_name = "bench"
    def get_remaining_time_in_millis(self):
        return 60000
"""


def package_is_stale() -> bool:
    sources = [*(ROOT / "chalicelib").rglob("*"), *(ROOT / "infra" / "package").rglob("*.py")]
    sources += [ROOT / "app.py", ROOT / "requirements.txt", ROOT / ".chalice" / "config.json"]
    newest = max(path.stat().st_mtime for path in sources)
    return not ZIP.exists() or not TEMPLATE.exists() or ZIP.stat().st_mtime < newest


def lambda_env(stage: str = "prod") -> dict[str, str]:
    """What a deployed function sees: the stage's variables from ``.chalice/config.json``, dummy credentials."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TZ")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(environment.stage_variables(stage))
    env.update(
        {
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "PYTHONDONTWRITEBYTECODE": "1",
            "JWT_ISSUER": "https://issuer.example",
            "JWKS_URL": "https://issuer.example/.well-known/jwks.json",
        }
    )
    return env


@contextmanager
def unpacked(archive: Path) -> Iterator[tuple[Path, Path]]:
    """(``/var/task``, ``/var/runtime``): the zip unpacked read-only, and the runtime's boto3."""
    with tempfile.TemporaryDirectory(prefix="cold-start-") as scratch:
        task, runtime = Path(scratch) / "task", Path(scratch) / "runtime"
        with zipfile.ZipFile(archive) as source:
            source.extractall(task)
        runtime.mkdir()
        for name in RUNTIME_PACKAGES:
            spec = importlib.util.find_spec(name)
            assert spec is not None and spec.origin is not None, name
            origin = Path(spec.origin)
            target = origin.parent if spec.submodule_search_locations else origin
            (runtime / target.name).symlink_to(target)
        subprocess.run([sys.executable, "-c", f"import {', '.join(RUNTIME_PACKAGES)}"], check=True)  # their bytecode
        for path in [task, *task.rglob("*")]:
            path.chmod(0o555 if path.is_dir() else 0o444)
        before = sorted(task.rglob("*"))
        try:
            yield task, runtime
            if sorted(task.rglob("*")) != before:
                raise SystemExit("the package directory changed during the runs: something wrote to /var/task")
        finally:
            for path in [task, *task.rglob("*")]:
                path.chmod(0o755 if path.is_dir() else 0o644)


def functions(template: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(logical id, handler attribute of ``app``, event source) of every function in the packaged template."""
    rows = []
    for logical_id, resource in sorted(template["Resources"].items()):
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        module, attribute = resource["Properties"]["Handler"].split(".", 1)
        assert module == "app", resource["Properties"]["Handler"]
        events = [event["Type"] for event in resource["Properties"].get("Events", {}).values()]
        # The REST API invokes ``app.app`` through the API's integrations, not through an event source.
        # The WebSocket API invokes its three handlers through its routes, not through an event source.
        source = "Api" if attribute == "app" else "WebSocket" if attribute.startswith("live_") else None
        source = source or (events[0] if events else "Invoke")
        rows.append((logical_id, attribute, source))
    return rows


def event_for(attribute: str, source: str) -> dict[str, Any]:
    """An event of the function's source that its handler takes as far as its first AWS call."""
    ids = {"tenantId": "acme", "deliveryId": "d-1", "eventId": "e-1", "runId": "r-1", "connectionId": "c-1"}
    body: dict[str, Any] = {**ids, "subscriptionId": "s-1", "eventType": "bench.event", "attempt": 1}
    if attribute.startswith("bus_event"):  # an EventBridge event, as the rule's SQS target delivers it
        body = {"id": "1", "source": "bench", "detail": {"tenantId": "acme", "type": "bench.event", "data": {}}}
    elif attribute == "events_stream_failures":  # Lambda's record of a stream batch given up
        info = {"shardId": "shardId-1", "startSequenceNumber": "1", "endSequenceNumber": "1"}
        body = {"DDBStreamBatchInfo": {**info, "streamArn": "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/x"}}
    elif attribute.startswith("health_check"):  # one connection's check
        body = {"kind": "check", "sweepId": "s-1", "tenantId": "acme", "connectionId": "c-1"}
    if source == "SQS":
        record = {
            "messageId": "m-1",
            "receiptHandle": "h-1",
            "body": json.dumps(body),
            "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0"},
            "messageAttributes": {},
            "md5OfBody": "",
            "eventSource": "aws:sqs",
            "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{attribute}",
            "awsRegion": "us-east-1",
        }
        return {"Records": [record]}
    if source == "DynamoDB":
        image: dict[str, Any] = {k: {"S": v} for k, v in ids.items()}
        image |= {"type": {"S": "bench.event"}, "source": {"S": "bench"}}
        image |= {"timestamp": {"S": "2025-01-01T00:00:00.000Z"}, "data": {"M": {}}}
        change = {"Keys": {"tenantId": {"S": "acme"}, "eventId": {"S": "e-1"}}, "NewImage": image}
        return {"Records": [{"eventID": "1", "eventName": "INSERT", "eventSource": "aws:dynamodb", "dynamodb": change}]}
    if source == "Schedule":
        tick: dict[str, Any] = {"version": "0", "id": "1", "detail-type": "Scheduled Event", "source": "aws.events"}
        when = {"account": "123456789012", "region": "us-east-1", "time": "2025-01-01T00:00:00Z"}
        return tick | when | {"resources": [], "detail": {}}
    if source == "Api":
        return {
            "resource": "/integrations/connections",
            "path": "/integrations/connections",
            "httpMethod": "GET",
            "headers": {"X-API-Key": "ipk_" + "b" * 43, "Host": "bench"},
            "multiValueHeaders": {},
            "queryStringParameters": None,
            "multiValueQueryStringParameters": None,
            "pathParameters": None,
            "stageVariables": None,
            "requestContext": {
                "resourcePath": "/integrations/connections",
                "httpMethod": "GET",
                "requestId": "r",
                "stage": "api",
            },
            "body": None,
            "isBase64Encoded": False,
        }
    if source == "WebSocket":  # $connect with an API key, a ping, or $disconnect (chalicelib/live/sockets.py)
        route = {"live_connect": "$connect", "live_message": "$default"}.get(attribute, "$disconnect")
        context: dict[str, Any] = {"routeKey": route, "connectionId": "cid-1", "domainName": "bench", "stage": "api"}
        context["apiId"] = "a"
        context |= {"requestId": "r", "connectedAt": 0, "identity": {"sourceIp": "127.0.0.1"}}
        return {
            "requestContext": context,
            "headers": {"X-API-Key": "ipk_" + "b" * 43, "Host": "bench"},
            "queryStringParameters": None,
            "body": json.dumps({"action": "ping"}) if route == "$default" else None,
            "isBase64Encoded": False,
        }
    secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:bench"
    return {"SecretId": secret, "ClientRequestToken": "t", "Step": "createSecret"}


def sample(code: str, task: Path, runtime: Path, env: dict[str, str]) -> tuple[float, float, str]:
    """Wall and CPU milliseconds of one cold start, and the first client's service (or "" if none)."""
    completed = subprocess.run(
        [sys.executable, "-S", "-c", TIMED.format(code=code)],
        cwd=task,
        env={**env, "PYTHONPATH": f"{task}{os.pathsep}{runtime}"},
        capture_output=True,
        text=True,
        check=False,
    )
    lines = dict(line.split(" ", 1) for line in completed.stdout.splitlines() if " " in line)
    if completed.returncode != 0 or "TIMES" not in lines:
        raise SystemExit(f"cold start sample failed:\n{completed.stdout}{completed.stderr}")
    wall, cpu = lines["TIMES"].split()
    return float(wall) * 1000, float(cpu) * 1000, lines.get("CLIENT", "")


def heaviest_imports(task: Path, runtime: Path, env: dict[str, str], top: int) -> list[tuple[int, str]]:
    """``python -X importtime`` for ``import app`` as the API function: the largest cumulative times (us)."""
    completed = subprocess.run(
        [sys.executable, "-S", "-X", "importtime", "-c", "import app"],
        cwd=task,
        env={**env, "PYTHONPATH": f"{task}{os.pathsep}{runtime}", "_HANDLER": "app.app"},
        capture_output=True,
        text=True,
        check=True,
    )
    rows = []
    for line in completed.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = (part.strip() for part in line.split("|"))
        rows.append((int(cumulative), name))
    return sorted(rows, reverse=True)[:top]


def ensure_package() -> None:
    if package_is_stale():
        print("$ make package", flush=True)
        subprocess.run(["make", "package"], cwd=ROOT, check=True, capture_output=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--zip", type=Path, default=None, help="measure this zip instead of build/deployment.zip")
    parser.add_argument("--against", type=Path, default=None, help="also measure this zip, interleaved (before)")
    parser.add_argument("--importtime", type=int, default=0, metavar="N", help="also list the N heaviest imports")
    args = parser.parse_args()
    if args.zip is None:
        ensure_package()
    archive = args.zip or ZIP
    rows = functions(json.loads(TEMPLATE.read_text()))
    env = lambda_env()
    codes = dict(FLOORS)
    for logical_id, attribute, source in rows:
        codes[logical_id] = CONTEXT + FUNCTION.format(attribute=attribute, event=event_for(attribute, source))
    handlers = {logical_id: f"app.{attribute}" for logical_id, attribute, _ in rows}
    samples: Samples = {name: [] for name in codes}
    before: Samples = {name: [] for name in handlers} if args.against else {}
    with ExitStack() as stack:
        task, runtime = stack.enter_context(unpacked(archive))
        other = stack.enter_context(unpacked(args.against)) if args.against else None
        for _ in range(args.runs):
            for name, code in codes.items():
                handler_env = {**env, "_HANDLER": handlers.get(name, "")} if name in handlers else env
                places = [(samples, task)] + ([(before, other[0])] if other and name in before else [])
                for into, place in places:
                    taken = sample(code, place, runtime, handler_env)
                    if name not in FLOORS and not taken[2]:
                        raise SystemExit(f"{name} returned before creating a client: update bench.cold_start.event_for")
                    into[name].append(taken)
        imports = heaviest_imports(task, runtime, env, args.importtime) if args.importtime else []
    size = archive.stat().st_size / (1024 * 1024)
    shown = str(archive.relative_to(ROOT) if archive.is_relative_to(ROOT) else archive)
    return report(samples, args.runs, shown, size, imports, before)


def report(
    samples: Samples, runs: int, archive: str, size: float, imports: list[tuple[int, str]], before: Samples
) -> int:
    def medians(of: Samples) -> dict[str, tuple[float, float, str]]:
        return {
            name: (statistics.median(w for w, _, _ in rows), statistics.median(c for _, c, _ in rows), rows[-1][2])
            for name, rows in of.items()
        }

    now, then = medians(samples), medians(before)
    floor_wall, floor_cpu, _ = now.pop("floor")
    old_wall, old_cpu, _ = now.pop("old floor")
    print(f"{archive} ({size:.2f} MB) unpacked read-only, PYTHONDONTWRITEBYTECODE=1; medians of {runs} runs")
    print("ratio: CPU to the stack floor (boto3+client+chalice+pydantic); old: to the old floor (without pydantic)")
    extra = f"{'before':>8}{'b. old':>8}" if then else ""
    print(f"{'function':<28}{'first client':<16}{'wall ms':>9}{'cpu ms':>9}{'ratio':>8}{'old':>8}{extra}")
    floors = (("stack floor", floor_wall, floor_cpu), ("old floor (no pydantic)", old_wall, old_cpu))
    for label, wall, cpu in floors:
        print(f"{label:<28}{'sqs':<16}{wall:9.1f}{cpu:9.1f}{cpu / floor_cpu:8.2f}{cpu / old_cpu:8.2f}")
    worst = worst_old = 0.0
    for name, (wall, cpu, client) in now.items():
        ratio, old = cpu / floor_cpu, cpu / old_cpu
        worst, worst_old = max(worst, ratio), max(worst_old, old)
        earlier = f"{then[name][1] / floor_cpu:8.2f}{then[name][1] / old_cpu:8.2f}" if name in then else ""
        print(f"{name:<28}{client or '(none)':<16}{wall:9.1f}{cpu:9.1f}{ratio:8.2f}{old:8.2f}{earlier}")
    verdict = "OK" if worst <= TARGET_RATIO else "OVER"
    moonshot = " (moonshot met)" if worst <= MOONSHOT_RATIO else ""
    targets = f"target <= {TARGET_RATIO}, moonshot {MOONSHOT_RATIO}"
    print(f"worst ratio (cpu): {worst:.2f} ({targets}) -> {verdict}{moonshot}")
    print(f"worst ratio to the old floor (cpu): {worst_old:.2f}")
    if then:
        print(f"before, worst ratio (cpu): {max(cpu for _, cpu, _ in then.values()) / floor_cpu:.2f}")
    if imports:
        print("heaviest imports under `import app` for the API function (cumulative):")
        for micros, name in imports:
            print(f"  {micros / 1000:7.1f} ms  {name}")
    return 0 if worst <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
