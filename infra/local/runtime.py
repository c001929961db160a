"""``make run``: the whole platform on localhost, with moto as the embedded AWS.

Order matters: moto starts and the environment points every boto3 client at it
before the app is imported, because settings and clients are read once per
process, exactly as in Lambda. Then the template's tables and queues are
deployed, the API is served over HTTP, and the app's SQS handlers and
schedules run as Lambda would run them. Everything lives in this process's
memory and is gone when it exits.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

STAGE = "dev"
RESOURCE_PREFIX = "integration-platform-dev"
STOP_GRACE_SECONDS = 5.0
log = logging.getLogger("infra.local.runtime")


def _environment(port: int, moto_url: str, region: str) -> dict[str, str]:
    from infra.local.dev_issuer import DEV_AUDIENCE, DEV_ISSUER

    return {
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "STAGE": STAGE,
        "RESOURCE_PREFIX": RESOURCE_PREFIX,
        "ALLOW_INSECURE_URLS": "true",
        "JWT_ISSUER": DEV_ISSUER,
        "JWT_AUDIENCE": DEV_AUDIENCE,
        "JWKS_URL": f"http://127.0.0.1:{port}/.well-known/jwks.json",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",  # so webhookUrl is a URL a local sender can post to
        "ROTATION_INVOKER": "local",
    }


def _stage_environment() -> dict[str, str]:
    """The dev stage's variables from ``.chalice/config.json``, as a deployed dev function sees them."""
    from chalice.config import Config

    from infra.local.invoke import PROJECT_DIR

    on_disk = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())
    variables: dict[str, Any] = Config(chalice_stage=STAGE, config_from_disk=on_disk).environment_variables
    return {name: str(value) for name, value in variables.items()}


def _start(target: Callable[[threading.Event], None], stop: threading.Event, name: str) -> threading.Thread:
    thread = threading.Thread(target=target, args=(stop,), name=name, daemon=True)
    thread.start()
    return thread


def main() -> int:
    started = time.monotonic()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("werkzeug", "botocore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())

    from moto.server import ThreadedMotoServer

    from infra.local.atomic_writes import make_dynamodb_writes_atomic

    make_dynamodb_writes_atomic()
    port = int(os.environ.get("PORT", "8000"))
    moto = ThreadedMotoServer("127.0.0.1", int(os.environ.get("MOTO_PORT", "0")), verbose=False)
    moto.start()
    moto_url = "http://{}:{}".format(*moto.get_host_and_port())
    region = os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        os.environ.pop(name, None)
    for name, value in _stage_environment().items():
        os.environ.setdefault(name, value)
    os.environ.update(_environment(port, moto_url, region))

    # Only now may chalicelib be imported: its settings and loggers read the environment once.
    import boto3

    from app import app
    from chalicelib.core import aws
    from infra.local.dev_issuer import DevIssuer
    from infra.local.gateway import LocalApi
    from infra.local.provision import provision
    from infra.local.rotation import install as install_rotation
    from infra.local.run_schedules import run_schedules
    from infra.local.scheduler import discover_schedules
    from infra.local.server import LocalHttpServer
    from infra.local.sqs_poller import discover_pollers
    from infra.local.stream_poller import discover_stream_pollers
    from infra.local.token import key_path

    threads = []
    try:
        http = LocalHttpServer(port)
    except OSError as exc:
        print(f"Cannot listen on 127.0.0.1:{port}: {exc.strerror}. Choose another with PORT=...", file=sys.stderr)
        moto.stop()
        return 1
    try:
        aws.session()  # reads AWS_FAULTS: a bad value stops the start with its message
        provision(RESOURCE_PREFIX, region=region)
        # The pollers play Lambda's event source mappings, which are AWS, not our code: AWS_FAULTS spares them.
        pollers = discover_pollers(app, boto3.client("sqs", region_name=region), STAGE, region)
        streams = discover_stream_pollers(
            app,
            boto3.client("dynamodb", region_name=region),
            boto3.client("dynamodbstreams", region_name=region),
            STAGE,
            region,
        )
        scale = float(os.environ.get("LOCAL_SCHEDULE_SCALE", "1"))
        scheduler = discover_schedules(app, STAGE, region, scale)
        scheduled_runs = run_schedules(
            boto3.client("scheduler", region_name=region),
            boto3.client("sqs", region_name=region),
            RESOURCE_PREFIX,
            scale,
        )
        rotation = install_rotation(app, STAGE, region)
    except (LookupError, ValueError) as exc:
        print(f"Cannot start: {exc}", file=sys.stderr)
        moto.stop()
        http.server_close()
        return 1
    http.attach(LocalApi(app), DevIssuer(key_path()).jwks())
    threads.append(_start(lambda _: http.serve_forever(), stop, "http"))
    threads += [_start(p.run, stop, f"sqs:{p.queue_name}") for p in pollers]
    threads += [_start(p.run, stop, f"stream:{p.table_name}") for p in streams]
    threads.append(_start(scheduler.run, stop, "scheduler"))
    threads.append(_start(scheduled_runs.run, stop, "scheduled-runs"))

    switch = aws.faults_on()
    lines = [
        f"Integration platform (stage {STAGE}) listening on http://127.0.0.1:{port}",
        f"  AWS (moto) endpoint {moto_url}, region {region}",
        *[f"  SQS {p.queue_name} -> {p.function.name} (batch {p.batch_size})" for p in pollers],
        *[f"  DynamoDB stream {p.table_name} -> {p.function.name} (batch {p.batch_size})" for p in streams],
        *[f"  schedule {s.function.name} {s.expression} -> every {s.period:g}s" for s in scheduler.schedules],
        *[f"  schedule {entry}: cron is not run locally" for entry in scheduler.unsupported],
        f"  EventBridge Scheduler rate(...) schedules -> their SQS target (checked every {scheduled_runs.poll:g}s)",
        *([f"  rotation -> {rotation.name} (the four Secrets Manager steps)"] if rotation else []),
        *(
            [f"  injecting AWS faults: {switch.describe()} (docs/reliability.md)"]
            if (switch := aws.faults_on())
            else []
        ),
        'Get a token:  make token TENANT=acme   (SCOPES="a b" to narrow; default is every scope)',
        'Then:         curl -H "Authorization: Bearer $(make -s token TENANT=acme)" '
        f"http://127.0.0.1:{port}/integrations/connections",
        "All state (tables, queues, secrets) is in memory and is lost when this process exits.",
        f"Ready in {time.monotonic() - started:.2f}s. Ctrl-C to stop.",
    ]
    print("\n".join(lines), flush=True)

    while not stop.wait(1.0):
        pass
    print("Stopping...", flush=True)
    http.shutdown()
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    moto.stop()
    http.server_close()
    print("Stopped.", flush=True)
    return 0


if __name__ == "__main__":
    code = main()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    # Everything main() started is stopped and its sockets are closed; tearing down the interpreter
    # would only spend seconds freeing moto's in-memory AWS, which is discarded anyway.
    os._exit(code)
