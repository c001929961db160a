"""The embedded AWS: everything the local runtimes run except the API's HTTP front.

``make run`` (``infra.local.runtime``) serves the API in the same process;
``make aws`` (``main`` below) runs only this, and ``chalice local --stage
local`` serves the API in another process against it. Both go through the
same three steps, in this order:

1. ``MotoServer`` starts moto over HTTP. It also publishes the dev issuer's
   JWKS at ``/.well-known/jwks.json``, as Cognito publishes a user pool's keys
   beside the rest of AWS: the local stage's ``JWKS_URL`` points there.
2. ``point_environment_at`` gives this process the stage's variables from
   ``.chalice/config.json`` and moto's endpoint, before the app is imported
   (settings and clients are read once per process, exactly as in Lambda).
3. ``Workers.deploy`` creates the template's tables, queues and bus, and finds
   what Lambda and EventBridge would run: a poller per SQS handler and per
   stream handler, the ``rate(...)`` schedules and the rotation function
   (which moto's ``RotateSecret`` then invokes, ``infra/local/rotation.py``).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from chalice.app import Chalice

    from infra.local.invoke import LocalFunction
    from infra.local.run_schedules import RunSchedules
    from infra.local.scheduler import Scheduler
    from infra.local.sqs_poller import SqsPoller
    from infra.local.stream_poller import StreamPoller

JWKS_PATH = "/.well-known/jwks.json"
STOP_GRACE_SECONDS = 5.0
log = logging.getLogger("infra.local")


class MotoServer:
    """moto's server app on 127.0.0.1 in a thread, with the dev issuer's JWKS beside it."""

    def __init__(self, port: int, jwks: dict[str, Any]) -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        from infra.local.atomic_writes import make_dynamodb_writes_atomic, make_secrets_manager_thread_safe

        make_dynamodb_writes_atomic()
        make_secrets_manager_thread_safe()
        moto = DomainDispatcherApplication(create_backend_app)
        body = json.dumps(jwks).encode()

        def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            if environ.get("PATH_INFO") == JWKS_PATH and environ.get("REQUEST_METHOD") == "GET":
                start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
                return [body]
            return moto(environ, start_response)  # type: ignore[no-any-return]

        self._server = make_server("127.0.0.1", port, app, threaded=True, request_handler=MotoRequestHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join()
        self._server.server_close()


def stage_environment(stage: str) -> dict[str, str]:
    """The stage's variables from ``.chalice/config.json``, as a deployed function (or ``chalice local``) sees them."""
    from chalice.config import Config

    from infra.local.invoke import PROJECT_DIR

    on_disk = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())
    variables: dict[str, Any] = Config(chalice_stage=stage, config_from_disk=on_disk).environment_variables
    return {name: str(value) for name, value in variables.items()}


def point_environment_at(
    moto_url: str, stage: str, region: str, overrides: dict[str, str], *, stage_wins: bool = False
) -> None:
    """This process's environment: the stage's variables, moto, then ``overrides``.

    ``make run`` lets the caller's own variables win over the stage's (``RATE_LIMIT_...=5 make run``).
    ``make aws`` does as ``chalice local`` does, which sets the stage's variables over the caller's, so
    that its handlers and the API process read the same settings.
    """
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        os.environ.pop(name, None)
    for name, value in stage_environment(stage).items():
        if stage_wins:
            os.environ[name] = value
        else:
            os.environ.setdefault(name, value)
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": moto_url,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": region,
            "AWS_REGION": region,
            **overrides,
        }
    )


@dataclass
class Workers:
    """What Lambda's event source mappings, EventBridge and Secrets Manager run for the app."""

    region: str
    pollers: list[SqsPoller]
    streams: list[StreamPoller]
    scheduler: Scheduler
    scheduled_runs: RunSchedules
    rotation: LocalFunction | None
    threads: list[threading.Thread] = field(default_factory=list)

    @classmethod
    def deploy(cls, app: Chalice, stage: str, region: str) -> Workers:
        """Provision the template and find the handlers; LookupError/ValueError say why the start is impossible."""
        import boto3

        from chalicelib.core import aws
        from chalicelib.core.config import get_settings
        from infra.local.calls import record_calls
        from infra.local.provision import provision
        from infra.local.rotation import install as install_rotation
        from infra.local.run_schedules import run_schedules
        from infra.local.scheduler import discover_schedules
        from infra.local.sqs_poller import discover_pollers
        from infra.local.stream_poller import discover_stream_pollers

        aws.session()  # reads AWS_FAULTS: a bad value stops the start with its message
        record_calls(aws.session(), os.environ)  # for `make iam`, when IAM_CALL_LOG asks; before any client
        provision(get_settings().resource_prefix, region=region)
        # The pollers play Lambda's event source mappings, which are AWS, not our code: AWS_FAULTS spares them.
        dynamodb = boto3.client("dynamodb", region_name=region)
        scale = float(os.environ.get("LOCAL_SCHEDULE_SCALE", "1"))
        return cls(
            region=region,
            pollers=discover_pollers(app, boto3.client("sqs", region_name=region), stage, region),
            streams=discover_stream_pollers(
                app, dynamodb, boto3.client("dynamodbstreams", region_name=region), stage, region
            ),
            scheduler=discover_schedules(app, stage, region, scale),
            scheduled_runs=run_schedules(
                boto3.client("scheduler", region_name=region),
                boto3.client("sqs", region_name=region),
                get_settings().resource_prefix,
                scale,
            ),
            rotation=install_rotation(app, stage, region),
        )

    def start(self, stop: threading.Event) -> None:
        self.threads += [_start(p.run, stop, f"sqs:{p.queue_name}") for p in self.pollers]
        self.threads += [_start(p.run, stop, f"stream:{p.table_name}") for p in self.streams]
        self.threads.append(_start(self.scheduler.run, stop, "scheduler"))
        self.threads.append(_start(self.scheduled_runs.run, stop, "scheduled-runs"))

    def join(self, deadline: float) -> None:
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def describe(self, moto_url: str) -> list[str]:
        from chalicelib.core import aws

        return [
            f"  AWS (moto) endpoint {moto_url}, region {self.region}; dev issuer keys at {moto_url}{JWKS_PATH}",
            *[f"  SQS {p.queue_name} -> {p.function.name} (batch {p.batch_size})" for p in self.pollers],
            *[f"  DynamoDB stream {p.table_name} -> {p.function.name} (batch {p.batch_size})" for p in self.streams],
            *[f"  schedule {s.function.name} {s.expression} -> every {s.period:g}s" for s in self.scheduler.schedules],
            *[f"  schedule {entry}: cron is not run locally" for entry in self.scheduler.unsupported],
            "  EventBridge Scheduler rate(...) schedules -> their SQS target"
            f" (checked every {self.scheduled_runs.poll:g}s)",
            *([f"  rotation -> {self.rotation.name} (the four Secrets Manager steps)"] if self.rotation else []),
            *(
                [f"  injecting AWS faults: {switch.describe()} (docs/reliability.md)"]
                if (switch := aws.faults_on())
                else []
            ),
        ]


def _start(target: Callable[[threading.Event], None], stop: threading.Event, name: str) -> threading.Thread:
    thread = threading.Thread(target=target, args=(stop,), name=name, daemon=True)
    thread.start()
    return thread


def setup_process() -> threading.Event:
    """Logging as the runtimes print it, and an event that Ctrl-C or SIGTERM sets."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("werkzeug", "botocore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    return stop


def start_moto(port: int) -> MotoServer | None:
    """moto on ``port`` (0: any free one) with the dev issuer's keys; None (and why, on stderr) if it is taken."""
    from infra.local.dev_issuer import DevIssuer
    from infra.local.token import key_path

    try:
        return MotoServer(port, DevIssuer(key_path()).jwks())
    except OSError as exc:
        print(f"Cannot listen on 127.0.0.1:{port}: {exc.strerror}. Choose another with MOTO_PORT=...", file=sys.stderr)
        return None


def main() -> int:
    """``make aws``: the local stage's AWS for ``chalice local --stage local`` in another terminal."""
    started = time.monotonic()
    stop = setup_process()
    from chalicelib.core.config import LOCAL_STAGE, local_ports

    port, moto_port = local_ports()
    moto = start_moto(moto_port)
    if moto is None:
        return 1
    region = os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    point_environment_at(moto.url, LOCAL_STAGE, region, {}, stage_wins=True)

    # Only now may the app be imported: its settings and loggers read the environment once.
    from app import app

    try:
        workers = Workers.deploy(app, LOCAL_STAGE, region)
    except (LookupError, ValueError) as exc:
        print(f"Cannot start: {exc}", file=sys.stderr)
        moto.stop()
        return 1
    workers.start(stop)
    lines = [
        f"Embedded AWS for stage {LOCAL_STAGE} (everything but the API's HTTP front)",
        *workers.describe(moto.url),
        "Serve the API in another terminal, with the same PORT and MOTO_PORT in its environment:",
        f"  PORT={port} MOTO_PORT={moto_port} .venv/bin/chalice local --stage {LOCAL_STAGE} --port {port}",
        "Get a token:  make -s token TENANT=acme",
        "All state (tables, queues, secrets) is in memory and is lost when this process exits.",
        f"Ready in {time.monotonic() - started:.2f}s. Ctrl-C to stop.",
    ]
    print("\n".join(lines), flush=True)
    while not stop.wait(1.0):
        pass
    print("Stopping...", flush=True)
    workers.join(time.monotonic() + STOP_GRACE_SECONDS)
    moto.stop()
    print("Stopped.", flush=True)
    return 0


def exit_now(code: int) -> NoReturn:
    """Exit once ``main`` has stopped everything and closed its sockets: tearing down the interpreter
    would only spend seconds freeing moto's in-memory AWS, which is discarded anyway."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    exit_now(main())
