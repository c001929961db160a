"""A fake vendor API on 127.0.0.1: GitHub, Slack, Twilio, Jira and an OAuth2 token endpoint in one server.

It checks the credential on every call (bearer token, Basic, API key in a header
or the query, or an access token it issued), records every request, and can be
told to misbehave for the next requests: answer slowly, 429 with Retry-After,
500, 401, or a 200 whose body is not JSON. Paths it does not know are echoed,
honouring ``Idempotency-Key`` the way Stripe does (the first response is replayed
and the side effect counted once), which is what the crash tests observe.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.waiting import WAIT_SECONDS

JsonReply = tuple[int, Any, dict[str, str]]


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}


@dataclass(frozen=True)
class Behavior:
    """One scripted answer; ``status=None`` with a ``delay`` means "slow, then answer normally".

    ``hold`` keeps the answer back until the test sets it (bounded by ``WAIT_SECONDS``): "still
    running" for exactly as long as the test needs, however slow the machine is.
    """

    status: int | None = None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    malformed: bool = False
    hold: threading.Event | None = None


def slow(seconds: float) -> Behavior:
    return Behavior(delay=seconds)


def held(release: threading.Event) -> Behavior:
    return Behavior(hold=release)


def rate_limited(retry_after: int) -> Behavior:
    return Behavior(429, {"message": "API rate limit exceeded"}, {"Retry-After": str(retry_after)})


def server_error() -> Behavior:
    return Behavior(500, {"message": "Internal Server Error"})


def unauthorized() -> Behavior:
    return Behavior(401, {"message": "Bad credentials"})


def malformed_json() -> Behavior:
    return Behavior(200, malformed=True)


@dataclass
class FakeVendor:
    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    bearer_tokens: set[str] = field(default_factory=set)
    basic: tuple[str, str] | None = None
    api_key: tuple[str, str, str] | None = None  # ("header" | "query", name, value)
    oauth_client: tuple[str, str] | None = None
    oauth_expires_in: int = 3600
    issued_tokens: set[str] = field(default_factory=set)
    token_requests: int = 0
    side_effects: dict[str, int] = field(default_factory=dict)
    pulls: list[dict[str, Any]] = field(default_factory=list)
    _script: list[Behavior] = field(default_factory=list)
    _replies: dict[str, JsonReply] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- what a test tells the vendor --------------------------------------------------------------
    def expect_bearer(self, token: str) -> None:
        self.bearer_tokens = {token}

    def expect_basic(self, username: str, password: str) -> None:
        self.basic = (username, password)

    def expect_api_key(self, value: str, *, header: str | None = None, query: str | None = None) -> None:
        self.api_key = ("query", query, value) if query else ("header", header or "X-API-Key", value)

    def expect_oauth_client(self, client_id: str, client_secret: str, expires_in: int = 3600) -> None:
        self.oauth_client = (client_id, client_secret)
        self.oauth_expires_in = expires_in

    def expire_tokens(self) -> None:
        """Every access token issued so far now gets 401, as after a vendor-side expiry."""
        with self._lock:
            self.issued_tokens.clear()

    def fail_next(self, *behaviors: Behavior) -> None:
        with self._lock:
            self._script.extend(behaviors)

    def api_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.path != "/oauth/token"]

    # -- serving ---------------------------------------------------------------------------------
    def handle(self, request: Recorded) -> tuple[int, bytes, dict[str, str]]:
        with self._lock:
            self.requests.append(request)
            behavior = self._script.pop(0) if self._script and request.path != "/oauth/token" else None
        if behavior is not None:
            time.sleep(behavior.delay)
            if behavior.hold is not None:
                behavior.hold.wait(WAIT_SECONDS)
            if behavior.malformed:
                return 200, b'{"id": 1, "truncated', {"Content-Type": "application/json"}
            if behavior.status is not None:
                return (
                    behavior.status,
                    json.dumps(behavior.body).encode(),
                    {"Content-Type": "application/json", **behavior.headers},
                )
        if request.path == "/oauth/token":
            status, body, headers = self._token(request)
        elif not self._authorized(request):
            status, body, headers = 401, {"message": "Bad credentials"}, {}
        else:
            status, body, headers = self._route(request)
        if isinstance(body, str):
            return status, body.encode(), {"Content-Type": "text/plain", **headers}
        return status, json.dumps(body).encode(), {"Content-Type": "application/json", **headers}

    def _authorized(self, request: Recorded) -> bool:
        authorization = request.headers.get("authorization", "")
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and value and (value in self.bearer_tokens or value in self.issued_tokens):
            return True
        if scheme.lower() == "basic" and self.basic is not None:
            return value == base64.b64encode(f"{self.basic[0]}:{self.basic[1]}".encode()).decode()
        if self.api_key is not None:
            where, name, expected = self.api_key
            sent = request.query.get(name) if where == "query" else request.headers.get(name.lower())
            return sent == expected
        return False

    def _token(self, request: Recorded) -> JsonReply:
        with self._lock:
            self.token_requests += 1
        expected = self.oauth_client
        sent = request.headers.get("authorization", "")
        form = request.form()
        if expected is None or form.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type"}, {}
        if sent != "Basic " + base64.b64encode(f"{expected[0]}:{expected[1]}".encode()).decode():
            return 401, {"error": "invalid_client"}, {}
        token = f"at-{self.token_requests}-{time.monotonic_ns()}"
        with self._lock:
            self.issued_tokens.add(token)
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": self.oauth_expires_in}, {}

    def _route(self, request: Recorded) -> JsonReply:
        parts = request.path.strip("/").split("/")
        method = request.method
        if parts[0] == "repos" and len(parts) >= 3:
            return self._github(method, parts[1], parts[2], parts[3:], request)
        if request.path == "/chat.postMessage" and method == "POST":
            sent = request.json()
            if sent.get("channel") == "C-missing":
                return 200, {"ok": False, "error": "channel_not_found"}, {}
            return 200, {"ok": True, "channel": sent["channel"], "ts": "1718000000.000100"}, {}
        if request.path == "/auth.test":
            return 200, {"ok": True, "team": "fake"}, {}
        if len(parts) == 4 and parts[:2] == ["2010-04-01", "Accounts"] and parts[3] == "Messages.json":
            if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
                return 400, {"message": "form encoding required"}, {}
            form = request.form()
            reply = {"sid": "SM" + "0" * 32, "status": "queued", "account_sid": parts[2], "to": form.get("To")}
            return 201, reply | {"from": form.get("From"), "body": form.get("Body")}, {}
        if request.path == "/rest/api/3/issue" and method == "POST":
            fields = request.json()["fields"]
            return 201, {"id": "10001", "key": f"{fields['project']['key']}-1", "self": "/rest/api/3/issue/10001"}, {}
        if request.path == "/big":
            return 200, {"items": ["x" * 100] * int(request.query.get("count", "100"))}, {}
        if request.path == "/text":
            return 200, "plain words", {}
        if request.path == "/leak":
            return 400, {"message": f"bad request from {request.headers.get('authorization')}"}, {}
        return self._echo(request)

    def _github(self, method: str, owner: str, repo: str, rest: list[str], request: Recorded) -> JsonReply:
        full_name = f"{owner}/{repo}"
        if not rest and method == "GET":
            return 200, {"id": 1296269, "name": repo, "full_name": full_name, "html_url": f"https://x/{full_name}"}, {}
        if rest == ["pulls"] and method == "POST":
            sent = request.json()
            head = sent["head"] if ":" in sent["head"] else f"{owner}:{sent['head']}"
            with self._lock:
                if any(
                    p["repo"] == full_name and p["head"]["label"] == head and p["base"]["ref"] == sent["base"]
                    for p in self.pulls
                ):
                    message = f"A pull request already exists for {head}."
                    return 422, {"message": "Validation Failed", "errors": [{"message": message}]}, {}
                number = len(self.pulls) + 1
                pull = {
                    "id": 1000 + number,
                    "number": number,
                    "state": "open",
                    "title": sent["title"],
                    "html_url": f"https://github.com/{full_name}/pull/{number}",
                    "repo": full_name,
                    "head": {"label": head, "ref": sent["head"]},
                    "base": {"ref": sent["base"]},
                }
                self.pulls.append(pull)
            return 201, pull, {}
        if rest == ["pulls"] and method == "GET":
            head, base = request.query.get("head"), request.query.get("base")
            return 200, [p for p in self.pulls if p["head"]["label"] == head and p["base"]["ref"] == base], {}
        if rest == ["issues"] and method == "GET":
            return 200, [{"id": 1, "number": 1, "title": "Found a bug", "state": request.query.get("state")}], {}
        if rest == ["issues"] and method == "POST":
            return 201, {"id": 2, "number": 2, "title": request.json()["title"], "state": "open"}, {}
        return 404, {"message": "Not Found"}, {}

    def _echo(self, request: Recorded) -> JsonReply:
        key = request.headers.get("idempotency-key")
        with self._lock:
            if key is not None and key in self._replies:
                status, body, headers = self._replies[key]
                return status, body, {**headers, "Idempotent-Replayed": "true"}
            effect_key = key or f"anonymous-{len(self.requests)}"
            self.side_effects[effect_key] = self.side_effects.get(effect_key, 0) + 1
            body = (
                request.json() if request.body and request.headers.get("content-type") == "application/json" else None
            )
            reply: JsonReply = (
                200,
                {
                    "method": request.method,
                    "path": request.path,
                    "query": request.query,
                    "received": body,
                    "effect": len(self.side_effects),
                },
                {},
            )
            if key is not None:
                self._replies[key] = reply
        return reply


class _Handler(BaseHTTPRequestHandler):
    vendor: FakeVendor

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        request = Recorded(
            method=self.command,
            path=parts.path,
            query={k: v[0] for k, v in parse_qs(parts.query).items()},
            headers={k.lower(): v for k, v in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
        )
        status, body, headers = self.vendor.handle(request)
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve  # noqa: N815 -- http.server dispatches on these names

    def log_message(self, format: str, *args: Any) -> None:
        return


@contextmanager
def serve_vendor() -> Iterator[FakeVendor]:
    vendor = FakeVendor()
    handler = type("VendorHandler", (_Handler,), {"vendor": vendor})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    vendor.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="fake-vendor", daemon=True)
    thread.start()
    try:
        yield vendor
    finally:
        server.shutdown()
        server.server_close()
