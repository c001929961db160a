"""The HTTP front of the local runtime: API Gateway on 127.0.0.1.

Every request goes, raw body and all, to ``LocalApi`` (the same event
conversion ``chalice local`` uses); the dev issuer's JWKS is served beside it,
so the API validates tokens over HTTP exactly as it would against a real IdP.
The console's "development sign-in" asks ``DEV_SIGN_IN_PATH`` for a token of
the same issuer (``make token`` in a browser); it exists only here, in the
local runtime, so every deployed stage answers it 404.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

from chalicelib.api.rendering import error_response
from chalicelib.core import jsontext
from chalicelib.core.context import set_trace_id, trace_id_from_headers
from chalicelib.core.errors import ApiError, PayloadTooLarge, ValidationFailed
from infra.local.embedded import JWKS_PATH
from infra.local.gateway import GatewayResponse, LocalApi

log = logging.getLogger(__name__)
DEV_SIGN_IN_PATH = "/.well-known/dev-sign-in"
DEV_SIGN_IN_TTL_SECONDS = 8 * 3600
TokenMaker = Callable[..., str]
MAX_REQUEST_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
HOP_BY_HOP = {"content-length", "transfer-encoding", "connection"}
LISTEN_BACKLOG = 128


class LocalHttpServer(ThreadingHTTPServer):
    # Keep-alive connections must not hold up shutdown.
    block_on_close = False
    # The listen backlog: a burst of connects waits here for the accept loop instead of being dropped.
    request_queue_size = LISTEN_BACKLOG

    def __init__(self, port: int) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.api: LocalApi | None = None
        self.jwks = b"{}"
        self.dev_token: TokenMaker | None = None

    def attach(self, api: LocalApi, jwks: dict[str, Any], dev_token: TokenMaker | None = None) -> None:
        self.jwks = json.dumps(jwks).encode()
        self.dev_token = dev_token
        self.api = api


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        server = cast(LocalHttpServer, self.server)
        if self.command == "GET" and self.path.split("?", 1)[0] == JWKS_PATH:
            self._reply(GatewayResponse(200, {"Content-Type": "application/json"}, server.jwks))
            return
        if self.path.split("?", 1)[0] == DEV_SIGN_IN_PATH and server.dev_token is not None:
            self._reply(self._dev_sign_in(server.dev_token))
            return
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        try:
            body = self._read_body()
        except ApiError as error:
            self.close_connection = True
            self._reply(_error(error, headers))
            return
        if server.api is None:
            self._reply(GatewayResponse(503, {"Content-Type": "application/json"}, b'{"message": "Starting"}'))
            return
        try:
            response = server.api.handle(self.command, self.path, headers, body)
        except Exception:
            log.exception("%s %s crashed the handler", self.command, self.path)
            # What API Gateway answers when the Lambda function itself fails.
            response = GatewayResponse(
                502, {"Content-Type": "application/json"}, b'{"message": "Internal server error"}'
            )
        self._reply(response)

    def _dev_sign_in(self, dev_token: TokenMaker) -> GatewayResponse:
        """GET: is it here (the console shows the button); POST ``{"tenant": ...}``: a token with every scope."""
        json_type = {"Content-Type": "application/json", "Cache-Control": "no-store"}
        if self.command == "GET":
            return GatewayResponse(200, json_type, b'{"available": true}')
        try:
            tenant = jsontext.read(self._read_body() or b"{}").get("tenant")
        except (ValueError, AttributeError, ApiError):
            tenant = None
        if self.command != "POST" or not isinstance(tenant, str) or not tenant.strip() or len(tenant) > 100:
            return _error(ValidationFailed('Send POST {"tenant": "<id>"}.'), dict(self.headers))
        token = dev_token(tenant.strip(), None, subject="console-dev", ttl_seconds=DEV_SIGN_IN_TTL_SECONDS)
        return GatewayResponse(200, json_type, json.dumps({"token": token, "tenant": tenant.strip()}).encode())

    def __getattr__(self, name: str) -> Callable[[], None]:
        """BaseHTTPRequestHandler looks up ``do_<METHOD>``: every method, TRACE and PROPFIND too, goes to the API,
        which answers a method it has no route for with 405 in the error shape (not http.server's 501 page)."""
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        raw = self.headers.get("Content-Length", "0").strip() or "0"
        if not raw.isdigit():
            raise ValidationFailed("Content-Length must be a non-negative integer.")
        length = int(raw)
        if length > MAX_REQUEST_BYTES:
            raise PayloadTooLarge(f"Request bodies are limited to {MAX_REQUEST_BYTES} bytes.")
        return self.rfile.read(length)

    def _read_chunked(self) -> bytes:
        body = bytearray()
        while True:
            size_line = self.rfile.readline(1024).split(b";", 1)[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError:
                raise ValidationFailed("Malformed chunked request body.") from None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                return bytes(body)
            if len(body) + size > MAX_REQUEST_BYTES:
                raise PayloadTooLarge(f"Request bodies are limited to {MAX_REQUEST_BYTES} bytes.")
            body += self.rfile.read(size)
            self.rfile.readline(1024)

    def _reply(self, response: GatewayResponse) -> None:
        self.send_response(response.status)
        for name, value in response.headers.items():
            if name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s " + format, self.address_string(), *args)


def _error(error: ApiError, headers: dict[str, str]) -> GatewayResponse:
    lowered = {k.lower(): v for k, v in headers.items()}
    trace_id = trace_id_from_headers(lowered.get("traceparent"), lowered.get("x-correlation-id"))
    set_trace_id(trace_id)
    raw = error_response(error).to_dict()
    response_headers = {k: str(v) for k, v in (raw.get("headers") or {}).items()}
    response_headers["X-Trace-Id"] = trace_id
    return GatewayResponse(error.status, response_headers, str(raw.get("body") or "").encode())
