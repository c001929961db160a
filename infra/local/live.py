"""API Gateway's WebSocket API on the local runtime: ``ws://127.0.0.1:$PORT/ws``.

A socket's handshake, each text frame and its close become API Gateway-shaped
``$connect``, ``$default`` and ``$disconnect`` events for the app's own
WebSocket handlers (``LocalFunction``, as the pollers call theirs), and the
``@connections`` management API (``POST`` a frame, ``GET``, ``DELETE``) is
served on the same port, so boto3's ``apigatewaymanagementapi`` client, pointed
there by ``LIVE_ENDPOINT_URL``, posts to the sockets and the handler code runs
unchanged. As on AWS, ``DELETE`` closes with 1000: the platform's own code is
in the ``close`` frame before it (docs/live.md). ``chalice local`` has none of
this; it serves HTTP only.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any, Protocol

from chalice.app import Chalice

from infra.local.gateway import GatewayResponse
from infra.local.invoke import LocalFunction

log = logging.getLogger(__name__)
WS_PATH = "/ws"
CONNECTIONS_PATH = "/@connections/"
STAGE = "api"
API_ID = "local"
MAX_POST_BYTES = 128 * 1024  # PostToConnection's limit
NORMAL_CLOSURE = 1000


class Peer(Protocol):
    """One open socket as the gateway drives it."""

    def send(self, message: str, /) -> None: ...

    def close(self, code: int, reason: str, /) -> None: ...


@dataclass
class _Open:
    peer: Peer
    connected_at: int
    source_ip: str
    last_active: int = 0


def new_connection_id() -> str:
    """API Gateway's shape: 16 characters of base64 ending in ``=``."""
    return secrets.token_urlsafe(11)[:15] + "="


class LiveGateway:
    def __init__(self, app: Chalice, stage: str, region: str, domain: str) -> None:
        self._functions = {
            config.route_key_handled: LocalFunction(app, config, stage, region)
            for config in app.websocket_handlers.values()
        }
        self._domain = domain
        self._open: dict[str, _Open] = {}
        self._lock = threading.Lock()

    def _context(self, connection_id: str, route: str, kind: str, source_ip: str) -> dict[str, Any]:
        now = int(time.time() * 1000)
        return {
            "routeKey": route,
            "eventType": kind,
            "messageDirection": "IN",
            "connectionId": connection_id,
            "domainName": self._domain,
            "stage": STAGE,
            "apiId": API_ID,
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": now,
            "identity": {"sourceIp": source_ip},
        }

    def connect(self, headers: dict[str, str], query: dict[str, str], source_ip: str) -> tuple[str, GatewayResponse]:
        """Run ``$connect``: on 2xx the caller completes the handshake and ``attach``es the socket."""
        connection_id = new_connection_id()
        event = {
            "requestContext": self._context(connection_id, "$connect", "CONNECT", source_ip),
            "headers": headers,
            "multiValueHeaders": {name: [value] for name, value in headers.items()},
            "queryStringParameters": query or None,
            "isBase64Encoded": False,
        }
        reply = self._invoke("$connect", event)
        status = int(reply.get("statusCode", 200)) if isinstance(reply, dict) else 200
        body = str(reply.get("body") or "") if isinstance(reply, dict) else ""
        return connection_id, GatewayResponse(status, {"Content-Type": "application/json"}, body.encode())

    def attach(self, connection_id: str, peer: Peer, source_ip: str) -> None:
        with self._lock:
            self._open[connection_id] = _Open(peer, int(time.time() * 1000), source_ip)

    def receive(self, connection_id: str, text: str) -> None:
        with self._lock:
            opened = self._open.get(connection_id)
        if opened is None:
            return
        opened.last_active = int(time.time() * 1000)
        context = self._context(connection_id, "$default", "MESSAGE", opened.source_ip)
        context["messageId"] = str(uuid.uuid4())
        self._invoke("$default", {"requestContext": context, "body": text, "isBase64Encoded": False})

    def disconnect(self, connection_id: str, code: int, reason: str) -> None:
        with self._lock:
            opened = self._open.pop(connection_id, None)
        if opened is None:
            return
        context = self._context(connection_id, "$disconnect", "DISCONNECT", opened.source_ip)
        context |= {"disconnectStatusCode": code, "disconnectReason": reason}
        self._invoke("$disconnect", {"requestContext": context, "isBase64Encoded": False})

    def manage(self, method: str, connection_id: str, body: bytes) -> GatewayResponse:
        """``@connections/{id}``: POST posts a frame, GET describes, DELETE closes; 410 for a socket not open."""
        with self._lock:
            opened = self._open.get(connection_id)
        if opened is None:
            return _json(410, {"message": "GoneException"}, error_type="GoneException")
        if method == "POST":
            if len(body) > MAX_POST_BYTES:
                return _json(413, {"message": "Message too long"}, error_type="PayloadTooLargeException")
            try:
                opened.peer.send(body.decode("utf-8"))
            except Exception:  # the socket died under us: as API Gateway would say
                return _json(410, {"message": "GoneException"}, error_type="GoneException")
            return GatewayResponse(200, {"Content-Type": "application/json"}, b"")
        if method == "DELETE":
            opened.peer.close(NORMAL_CLOSURE, "")
            return GatewayResponse(204, {}, b"")
        if method == "GET":
            info = {
                "ConnectedAt": _iso(opened.connected_at),
                "LastActiveAt": _iso(opened.last_active or opened.connected_at),
                "Identity": {"SourceIp": opened.source_ip},
            }
            return _json(200, info)
        return _json(405, {"message": "Method not allowed"})

    def _invoke(self, route: str, event: dict[str, Any]) -> Any:
        function = self._functions.get(route)
        if function is None:
            return {"statusCode": 200}
        try:
            return function.invoke(event)
        except Exception:
            log.exception("the %s handler failed", route)
            return {"statusCode": 500}


def _json(status: int, body: dict[str, Any], error_type: str | None = None) -> GatewayResponse:
    headers = {"Content-Type": "application/json"}
    if error_type:
        headers["x-amzn-ErrorType"] = error_type
    return GatewayResponse(status, headers, json.dumps(body).encode())


def _iso(epoch_ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch_ms / 1000))
