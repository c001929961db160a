"""``make run``: the whole platform on localhost, with moto as the embedded AWS.

The embedded AWS (moto, the template's resources, the pollers, schedules and
rotation) is ``infra.local.embedded``, shared with ``make aws``; this adds the
API's HTTP front in the same process, on the dev stage. Order matters: moto
starts and the environment points every boto3 client at it before the app is
imported, because settings and clients are read once per process, exactly as
in Lambda. Everything lives in this process's memory and is gone when it exits.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time

STAGE = "dev"
log = logging.getLogger("infra.local.runtime")


def _environment(port: int) -> dict[str, str]:
    from infra.local.dev_issuer import DEV_AUDIENCE, DEV_ISSUER
    from infra.local.embedded import JWKS_PATH
    from infra.local.invoke import LOCAL_ACCOUNT

    region = os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    return {
        "STAGE": STAGE,
        "RESOURCE_PREFIX": "integration-platform-dev",
        "ALLOW_INSECURE_URLS": "true",
        "JWT_ISSUER": DEV_ISSUER,
        "JWT_AUDIENCE": DEV_AUDIENCE,
        "JWKS_URL": f"http://127.0.0.1:{port}{JWKS_PATH}",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",  # so webhookUrl is a URL a local sender can post to
        # The live WebSocket API's @connections endpoint is served on the same port (infra/local/live.py).
        "LIVE_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        # The embedded AWS's RotateSecret runs this function (infra/local/rotation.py); `make iam` gives the
        # packaged template's ARN instead, so that the IAM check sees the one a deployed API names.
        "ROTATION_INVOKER": "secretsmanager",
        "ROTATION_FUNCTION_ARN": os.environ.get("ROTATION_FUNCTION_ARN")
        or f"arn:aws:lambda:{region}:{LOCAL_ACCOUNT}:function:integration-platform-{STAGE}-credential_rotation",
    }


def main() -> int:
    started = time.monotonic()
    from infra.local.embedded import STOP_GRACE_SECONDS, Workers, point_environment_at, setup_process, start_moto

    stop = setup_process()
    port = int(os.environ.get("PORT", "8000"))
    moto = start_moto(int(os.environ.get("MOTO_PORT", "0")))
    if moto is None:
        return 1
    region = os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    point_environment_at(moto.url, STAGE, region, _environment(port))

    # Only now may chalicelib be imported: its settings and loggers read the environment once.
    from app import app
    from infra.local.dev_issuer import DevIssuer
    from infra.local.gateway import LocalApi
    from infra.local.live import WS_PATH, LiveGateway
    from infra.local.server import LocalHttpServer
    from infra.local.token import key_path

    try:
        http = LocalHttpServer(port)
    except OSError as exc:
        print(f"Cannot listen on 127.0.0.1:{port}: {exc.strerror}. Choose another with PORT=...", file=sys.stderr)
        moto.stop()
        return 1
    try:
        workers = Workers.deploy(app, STAGE, region)
    except (LookupError, ValueError) as exc:
        print(f"Cannot start: {exc}", file=sys.stderr)
        moto.stop()
        http.server_close()
        return 1
    issuer = DevIssuer(key_path())
    http.attach(LocalApi(app), issuer.jwks(), issuer.token, LiveGateway(app, STAGE, region, f"127.0.0.1:{port}"))
    serving = threading.Thread(target=http.serve_forever, name="http", daemon=True)
    serving.start()
    workers.start(stop)

    lines = [
        f"Integration platform (stage {STAGE}) listening on http://127.0.0.1:{port}",
        f"Live events (WebSocket): ws://127.0.0.1:{port}{WS_PATH}",
        *workers.describe(moto.url),
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
    serving.join(max(0.0, deadline - time.monotonic()))
    workers.join(deadline)
    moto.stop()
    http.server_close()
    print("Stopped.", flush=True)
    return 0


if __name__ == "__main__":
    from infra.local.embedded import exit_now

    exit_now(main())
