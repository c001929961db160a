"""JSON-RPC 2.0 framing and version negotiation for MCP's stateless streamable HTTP (JSON responses).

Each POST carries one message (or, at protocol 2025-03-26 only, a batch). Requests get
``application/json`` answers; a POST of notifications or responses only gets 202 with no
body. Nothing is kept between requests, so any Lambda can answer any POST and no
``Mcp-Session-Id`` is issued or required.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.core import jsontext

# Handshake-era revisions whose messages we serve; the newest is offered when a client asks for another.
SUPPORTED_VERSIONS = ("2025-03-26", "2025-06-18", "2025-11-25")
LATEST_VERSION = SUPPORTED_VERSIONS[-1]
# Without an ``MCP-Protocol-Version`` header the spec says to assume 2025-03-26, the one revision with batches.
BATCH_VERSIONS = frozenset({"2025-03-26"})
DEFAULT_HEADER_VERSION = "2025-03-26"

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603

RequestId = str | int


class RpcError(Exception):
    """A JSON-RPC error answer to one request."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


@dataclass(frozen=True)
class HttpAnswer:
    """What the route sends: a status and a JSON body, or no body (202)."""

    status: int
    body: Any = None


Method = Callable[[Mapping[str, Any]], dict[str, Any]]


def error_body(request_id: RequestId | None, error: RpcError) -> dict[str, Any]:
    payload: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.data is not None:
        payload["data"] = error.data
    return {"jsonrpc": "2.0", "id": request_id, "error": payload}


def negotiate(requested: Any) -> str:
    """The client's version when we speak it, else our newest (the client decides whether to go on)."""
    return requested if isinstance(requested, str) and requested in SUPPORTED_VERSIONS else LATEST_VERSION


def _valid_id(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def _one(message: Any, methods: Mapping[str, Method]) -> dict[str, Any] | None:
    """The answer to one message; ``None`` for a notification or a response (nothing to answer)."""
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
        return error_body(None, RpcError(INVALID_REQUEST, "Not a JSON-RPC 2.0 message."))
    if "method" not in message:
        if "id" in message and ("result" in message or "error" in message):
            return None  # a client's response; we never send requests, so there is nothing to match
        return error_body(None, RpcError(INVALID_REQUEST, "A message needs a method."))
    method = message["method"]
    is_request = "id" in message
    request_id = message.get("id")
    if is_request and not _valid_id(request_id):
        return error_body(None, RpcError(INVALID_REQUEST, "A request id is a string or an integer."))
    params = message.get("params", {})
    if not isinstance(method, str) or not isinstance(params, dict):
        error = RpcError(INVALID_REQUEST, "method is a string and params an object.")
        return error_body(request_id, error) if is_request else None
    if not is_request:
        return None  # notifications/initialized, notifications/cancelled, ...: accepted, nothing to do
    handler = methods.get(method)
    if handler is None:
        return error_body(request_id, RpcError(METHOD_NOT_FOUND, f"Method '{method}' is not supported."))
    try:
        result = handler(params)
    except RpcError as error:
        return error_body(request_id, error)
    return {"jsonrpc": "2.0", "id": request_id, "result": result}


def handle(body: bytes, header_version: str | None, methods: Mapping[str, Method]) -> HttpAnswer:
    """Answer one POST: parse, check the version header, dispatch, frame.

    ``methods`` are looked up per request; a handler raises ``RpcError`` for a JSON-RPC error, and
    any ``ApiError`` it raises (authentication, rate limits) propagates to the platform's error shape.
    """
    version = header_version.strip() if header_version else DEFAULT_HEADER_VERSION
    if version not in SUPPORTED_VERSIONS:
        supported = ", ".join(SUPPORTED_VERSIONS)
        error = RpcError(INVALID_REQUEST, f"Unsupported MCP-Protocol-Version '{version}' (supported: {supported}).")
        return HttpAnswer(400, error_body(None, error))
    try:
        document = jsontext.read(body)
    except jsontext.JsonRejected as rejected:
        message = "The body is nested too deeply." if rejected.reason == "depth" else "The body is not JSON."
        return HttpAnswer(400, error_body(None, RpcError(PARSE_ERROR, message)))
    if isinstance(document, list):
        if version not in BATCH_VERSIONS:
            message = f"Batches are not part of protocol {version}; send one message per POST."
            return HttpAnswer(400, error_body(None, RpcError(INVALID_REQUEST, message)))
        if not document:
            return HttpAnswer(400, error_body(None, RpcError(INVALID_REQUEST, "An empty batch.")))
        answers = [answer for answer in (_one(m, methods) for m in document) if answer is not None]
        return HttpAnswer(200, answers) if answers else HttpAnswer(202)
    answer = _one(document, methods)
    if answer is None:
        return HttpAnswer(202)
    if "error" in answer and answer["id"] is None:
        return HttpAnswer(400, answer)
    return HttpAnswer(200, answer)
