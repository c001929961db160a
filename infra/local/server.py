"""The HTTP front of the local runtime: API Gateway on 127.0.0.1.

Every request goes, raw body and all, to ``LocalApi`` (the same event
conversion ``chalice local`` uses); the dev issuer's JWKS is served beside it,
so the API validates tokens over HTTP exactly as it would against a real IdP.
The console's "development sign-in" asks ``DEV_SIGN_IN_PATH`` for a token of
the same issuer (``make token`` in a browser); it exists only here, in the
local runtime, so every deployed stage answers it 404.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast
from urllib.parse import parse_qsl, unquote, urlsplit

from chalicelib.api.rendering import error_response
from chalicelib.core import jsontext
from chalicelib.core.context import set_trace_id, trace_id_from_headers
from chalicelib.core.errors import ApiError, PayloadTooLarge, ValidationFailed
from infra.local.embedded import JWKS_PATH
from infra.local.gateway import GatewayResponse, LocalApi
from infra.local.live import CONNECTIONS_PATH, WS_PATH, LiveGateway

log = logging.getLogger(__name__)
DEV_SIGN_IN_PATH = "/.well-known/dev-sign-in"
DEV_SIGN_IN_TTL_SECONDS = 8 * 3600
TokenMaker = Callable[..., str]
MAX_REQUEST_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
HOP_BY_HOP = {"content-length", "transfer-encoding", "connection"}
LISTEN_BACKLOG = 128
WEBSOCKET_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 section 1.3
MAX_MESSAGE_BYTES = 128 * 1024  # API Gateway closes a socket (1009) whose message is larger
QUERY_TOKEN = re.compile(r"([?&]token=)[^&\s]*")


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
        self.live: LiveGateway | None = None

    def attach(
        self,
        api: LocalApi,
        jwks: dict[str, Any],
        dev_token: TokenMaker | None = None,
        live: LiveGateway | None = None,
    ) -> None:
        self.jwks = json.dumps(jwks).encode()
        self.dev_token = dev_token
        self.live = live
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
        if server.live is not None and self._live(server.live):
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

    def _live(self, live: LiveGateway) -> bool:
        """The WebSocket API (``/ws``) and its ``@connections`` management API; False for any other path."""
        path = self.path.split("?", 1)[0]
        if path.startswith(CONNECTIONS_PATH):
            try:
                body = self._read_body()
            except ApiError as error:
                self.close_connection = True
                self._reply(_error(error, dict(self.headers)))
                return True
            self._reply(live.manage(self.command, unquote(path[len(CONNECTIONS_PATH) :]), body))
            return True
        if path != WS_PATH:
            return False
        self.close_connection = True
        key = self.headers.get("Sec-WebSocket-Key")
        if self.command != "GET" or self.headers.get("Upgrade", "").lower() != "websocket" or not key:
            self._reply(GatewayResponse(426, {"Content-Type": "application/json"}, b'{"message": "Upgrade Required"}'))
            return True
        query = dict(parse_qsl(urlsplit(self.path).query))
        connection_id, response = live.connect(dict(self.headers.items()), query, self.client_address[0])
        if response.status // 100 != 2:
            self._reply(response)
            return True
        self._websocket(live, connection_id, key)
        return True

    def _websocket(self, live: LiveGateway, connection_id: str, key: str) -> None:
        """Complete the handshake, then hand each text message to the gateway until the socket closes."""
        from websockets.exceptions import ConnectionClosed
        from websockets.protocol import State
        from websockets.server import ServerProtocol
        from websockets.sync.connection import Connection

        accept = base64.b64encode(hashlib.sha1(key.encode() + WEBSOCKET_GUID).digest()).decode()
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.wfile.flush()
        socket = Connection(self.connection, ServerProtocol(state=State.OPEN, max_size=MAX_MESSAGE_BYTES))
        live.attach(connection_id, socket, self.client_address[0])
        try:
            for message in socket:
                live.receive(connection_id, message if isinstance(message, str) else message.decode("utf-8", "replace"))
        except ConnectionClosed:
            pass
        finally:
            closed = socket.protocol.close_rcvd or socket.protocol.close_sent
            live.disconnect(connection_id, closed.code if closed else 1006, closed.reason if closed else "")
            socket.close()

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
        """Access log lines, with a ``?token=`` (a live socket's credential) redacted."""
        shown = [QUERY_TOKEN.sub(r"\1[redacted]", arg) if isinstance(arg, str) else arg for arg in args]
        log.info("%s " + format, self.address_string(), *shown)


def _error(error: ApiError, headers: dict[str, str]) -> GatewayResponse:
    lowered = {k.lower(): v for k, v in headers.items()}
    trace_id = trace_id_from_headers(lowered.get("traceparent"), lowered.get("x-correlation-id"))
    set_trace_id(trace_id)
    raw = error_response(error).to_dict()
    response_headers = {k: str(v) for k, v in (raw.get("headers") or {}).items()}
    response_headers["X-Trace-Id"] = trace_id
    return GatewayResponse(error.status, response_headers, str(raw.get("body") or "").encode())
