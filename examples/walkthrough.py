"""End-to-end walk-through against a running platform, with a fake GitHub and a local receiver.

    make run                       # terminal 1 (PORT=9000 make run to move it)
    python examples/walkthrough.py # terminal 2 (PORT=9000 ... likewise)

What it does, each step checked (any surprise exits 1 with the reason):

1. starts a fake GitHub (the vendor) and a webhook receiver on free 127.0.0.1 ports;
2. subscribes the receiver to ``PullRequestMerged`` and ``RunCompleted``;
3. connects GitHub, pointed at the fake vendor (``configuration.baseUrl``);
4. the vendor sends a signed ``pull_request`` webhook to the connection's ``webhookUrl``;
5. the platform verifies it, normalises it to ``PullRequestMerged`` and fans it out: the
   receiver checks both signatures (Standard Webhooks and ``X-Signature-256``);
6. starts an ``OpenPullRequest`` run and waits for it: the fake vendor gets the call;
7. waits for ``RunCompleted`` at the receiver and prints the subscription's attempt log.

Only the standard library, so any ``python3`` runs it. With no ``TOKEN`` it mints one
with ``-m infra.local.token`` (local runtime only), run by ``PYTHON``, else the
``.venv/bin/python`` that ``make run`` made (the token needs the project's packages).
Settings: ``PORT`` (8000), ``BASE_URL`` (follows ``PORT``), ``TENANT`` (acme), ``TOKEN``,
``PYTHON``, ``WAIT_SECONDS`` (30).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parents[1]
VENDOR_TOKEN = "ghp_walkthrough000000000000000000000000"


class Failed(Exception):
    """A step did not go as the walk-through expects."""


def settings() -> tuple[str, str, float]:
    base_url = os.environ.get("BASE_URL") or f"http://127.0.0.1:{os.environ.get('PORT', '8000')}"
    token = os.environ.get("TOKEN") or mint_token(os.environ.get("TENANT", "acme"))
    return base_url.rstrip("/"), token, float(os.environ.get("WAIT_SECONDS", "30"))


def token_python() -> str:
    """``PYTHON``, else the project's virtualenv (``make run`` made it), else this interpreter."""
    venv = PROJECT_DIR / ".venv" / "bin" / "python"
    return os.environ.get("PYTHON") or (str(venv) if os.access(venv, os.X_OK) else sys.executable)


def mint_token(tenant: str) -> str:
    done = subprocess.run(
        [token_python(), "-m", "infra.local.token", "--tenant", tenant],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0 or not done.stdout.strip():
        raise Failed(f"no TOKEN given and the local token command failed: {done.stderr.strip()}")
    return done.stdout.strip().splitlines()[-1]


class Api:
    def __init__(self, base_url: str, token: str) -> None:
        self.base_url, self.token = base_url, token

    def call(
        self, expected: int, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        sent = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json", **(headers or {})}
        request = urllib.request.Request(self.base_url + path, data=data, method=method, headers=sent)
        status, text = send(request)
        print(f"  {method} {path} -> {status}")
        if status != expected:
            raise Failed(f"{method} {path} answered {status}, expected {expected}: {text}")
        return json.loads(text) if text else None


def send(request: urllib.request.Request) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def wait_for(what: str, seconds: float, probe: Callable[[], Any]) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.2)
    raise Failed(f"timed out after {seconds:.0f}s waiting for {what}")


class Handler(BaseHTTPRequestHandler):
    """Hands each request to its server's ``answer``; quiet."""

    def do_GET(self) -> None:
        self._any()

    def do_POST(self) -> None:
        self._any()

    def _any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        status, reply = self.server.answer(self.command, self.path, dict(self.headers.items()), body)  # type: ignore[attr-defined]
        data = json.dumps(reply).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class FakeGitHub(ThreadingHTTPServer):
    """The vendor: answers the two GitHub calls the run makes, and sends webhooks."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.pulls: list[dict[str, Any]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        if headers.get("Authorization") != f"Bearer {VENDOR_TOKEN}":
            return 401, {"message": "Bad credentials"}
        parts = path.split("?")[0].strip("/").split("/")
        if parts[0] == "repos" and len(parts) == 3 and method == "GET":
            return 200, {"id": 1, "name": parts[2], "full_name": f"{parts[1]}/{parts[2]}"}
        if parts[0] == "repos" and parts[3:] == ["pulls"] and method == "POST":
            sent = json.loads(body)
            number = len(self.pulls) + 1
            pull = {"id": 1000 + number, "number": number, "state": "open", "title": sent["title"],
                    "html_url": f"https://github.com/{parts[1]}/{parts[2]}/pull/{number}"}  # fmt: skip
            self.pulls.append(pull)
            return 201, pull
        return 404, {"message": "Not Found"}

    def send_webhook(self, url: str, secret: str, event: str, payload: dict[str, Any]) -> int:
        """POST a delivery the way GitHub does: ``X-Hub-Signature-256`` over the raw body."""
        body = json.dumps(payload).encode()
        signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": "application/json",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": signature,
        }
        status, text = send(urllib.request.Request(url, data=body, method="POST", headers=headers))
        print(f"  vendor POST {url} -> {status} {text}")
        return status


class Receiver(ThreadingHTTPServer):
    """The subscriber: accepts a message only when both of the platform's signatures verify."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.secret = ""
        self.messages: list[dict[str, Any]] = []
        self.rejected: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hooks"

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        lower = {k.lower(): v for k, v in headers.items()}
        signed = f"{lower.get('webhook-id')}.{lower.get('webhook-timestamp')}.".encode() + body
        key = base64.b64decode(self.secret.removeprefix("whsec_") + "==")
        expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        standard_ok = any(hmac.compare_digest(expected, s) for s in lower.get("webhook-signature", "").split())
        x_ok = hmac.compare_digest(
            "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest(),
            lower.get("x-signature-256", ""),
        )
        if not (standard_ok and x_ok):
            self.rejected.append(lower.get("webhook-id", "?"))
            return 400, {"error": "signature"}
        self.messages.append(json.loads(body))
        return 200, {"ok": True}

    def got(self, event_type: str) -> dict[str, Any] | None:
        return next((m for m in self.messages if m.get("type") == event_type), None)


@contextmanager
def serving(server: ThreadingHTTPServer) -> Iterator[None]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


def walk(api: Api, wait: float, vendor: FakeGitHub, receiver: Receiver) -> None:
    print("1. subscribe the receiver")
    subscription = api.call(
        201,
        "POST",
        "/webhooks/subscriptions",
        {"eventTypes": ["PullRequestMerged", "RunCompleted"], "endpointUrl": receiver.url},
    )
    receiver.secret = subscription["signingSecret"]

    print("2. connect GitHub (the fake vendor)")
    connection = api.call(
        201,
        "POST",
        "/integrations/connections",
        {
            "providerId": "prov-github",
            "displayName": "Walk-through GitHub",
            "credentials": {"token": VENDOR_TOKEN},
            "configuration": {"baseUrl": vendor.url},
        },
    )
    connection_id = connection["connectionId"]

    print("3. the vendor sends a signed webhook")
    payload = {"action": "closed", "number": 7, "pull_request": {"merged": True, "title": "Fix"}}
    status = vendor.send_webhook(connection["webhookUrl"], connection["webhookSecret"], "pull_request", payload)
    if status != 202:
        raise Failed(f"the platform answered the vendor {status}, expected 202")

    print("4. the platform fans it out to the receiver")
    merged = wait_for("PullRequestMerged at the receiver", wait, lambda: receiver.got("PullRequestMerged"))
    print(f"  received {merged['type']} {merged['id']} at {merged['timestamp']}")

    print("5. start a run and wait for it")
    run = api.call(
        202,
        "POST",
        f"/integrations/connections/{connection_id}/operations/OpenPullRequest",
        {"parameters": {"owner": "acme", "repo": "shop", "title": "Add feature", "head": "feature", "base": "main"}},
        headers={"Idempotency-Key": f"walkthrough-{uuid.uuid4()}"},
    )

    def finished() -> dict[str, Any] | None:
        current: dict[str, Any] = api.call(200, "GET", f"/integrations/runs/{run['runId']}")
        return current if current["status"] in ("Completed", "Failed", "Cancelled") else None

    done = wait_for(f"run {run['runId']} to finish", wait, finished)
    if done["status"] != "Completed" or not vendor.pulls:
        raise Failed(f"the run ended {done['status']}: {done.get('error')}")
    print(f"  {done['runId']} Completed: {done.get('result')}")

    print("6. RunCompleted reaches the receiver")
    completed = wait_for("RunCompleted at the receiver", wait, lambda: receiver.got("RunCompleted"))
    print(f"  received {completed['type']} for {completed['data']['runId']}")
    attempts = api.call(200, "GET", f"/webhooks/subscriptions/{subscription['subscriptionId']}/attempts")
    for attempt in attempts["items"]:
        print(f"  attempt {attempt['eventType']}: {attempt['status']} ({attempt.get('statusCode')})")
    if receiver.rejected:
        raise Failed(f"messages whose signatures did not verify: {receiver.rejected}")


def main() -> int:
    try:
        base_url, token, wait = settings()
        vendor, receiver = FakeGitHub(), Receiver()
        with serving(vendor), serving(receiver):
            walk(Api(base_url, token), wait, vendor, receiver)
    except (Failed, urllib.error.URLError, OSError) as problem:
        print(f"walk-through failed: {problem}", file=sys.stderr)
        return 1
    print("walk-through complete")
    return 0


if __name__ == "__main__":
    sys.exit(main())
