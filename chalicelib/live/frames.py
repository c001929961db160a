"""The frames a live socket carries: 002's ``{"action": ...}`` in, ``{"type", "data"}`` out (docs/live.md).

A frame that does not parse is answered with an ``error`` frame in the
platform's error shape and the socket stays open; only the rate limit and an
expired token close it, after a ``close`` frame that names the code.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter, ValidationError

from chalicelib.core.context import current_trace_id
from chalicelib.core.errors import ApiError, FieldError, PayloadTooLarge, ValidationFailed
from chalicelib.core.models import RequestModel, WireModel

# API Gateway carries at most 32 KB in one WebSocket frame; the platform takes no larger frame from a client.
MAX_FRAME_BYTES = 32 * 1024
MAX_SUBSCRIPTIONS = 10
MAX_TYPES = 50
MAX_ID_LENGTH = 100
# The close codes (4000-4999 are the application's, RFC 6455 7.4.2), sent in the ``close`` frame before closing.
CLOSE_RATE_LIMITED = 4429
CLOSE_TOKEN_EXPIRED = 4401
# What every platform event also becomes for a run: 002's ``task.progress``, for runs.
RUN_PROGRESS = "run.progress"
# Each webhook delivery attempt of an event, pushed by the dispatcher (``push.push_attempt``).
DELIVERY_ATTEMPT = "delivery.attempt"

ShortId = Annotated[str, Field(min_length=1, max_length=MAX_ID_LENGTH)]


class Filters(RequestModel):
    """All given must match: the event's ``data.connectionId``, ``data.subscriptionId``, ``data.runId``."""

    connection_id: ShortId | None = None
    subscription_id: ShortId | None = None
    run_id: ShortId | None = None


class Subscribe(RequestModel):
    """``id`` names the subscription (default ``default``); subscribing again under an id replaces it."""

    action: Literal["subscribe"]
    id: ShortId = "default"
    events: list[ShortId] = Field(default_factory=list, max_length=MAX_TYPES)
    filters: Filters = Field(default_factory=Filters)


class Unsubscribe(RequestModel):
    """Without ``id``, every subscription of the socket ends."""

    action: Literal["unsubscribe"]
    id: ShortId | None = None


class Ping(RequestModel):
    action: Literal["ping"]


ClientFrame = Annotated[Subscribe | Unsubscribe | Ping, Field(discriminator="action")]


@cache
def _client_frame() -> TypeAdapter[Subscribe | Unsubscribe | Ping]:
    """Built on the first frame, not at import: the events stream function imports this module and never parses."""
    return TypeAdapter(ClientFrame)


class Subscription(WireModel):
    """One subscription of a socket as stored on its connection item."""

    id: str
    events: list[str] = Field(default_factory=list)
    filters: Filters = Field(default_factory=Filters)


def parse(body: str | None) -> Subscribe | Unsubscribe | Ping:
    """The client's frame, or the ``ApiError`` its ``error`` frame reports."""
    raw = (body or "").encode("utf-8", "surrogatepass")
    if len(raw) > MAX_FRAME_BYTES:
        raise PayloadTooLarge(f"Frames are limited to {MAX_FRAME_BYTES} bytes.")
    try:
        document: Any = json.loads(raw)
    except ValueError as exc:
        raise ValidationFailed("The frame is not valid JSON.", [FieldError("body", str(exc))]) from exc
    if not isinstance(document, dict):
        raise ValidationFailed("A frame must be a JSON object.", [FieldError("body", "not an object")])
    try:
        return _client_frame().validate_python(document)
    except ValidationError as exc:
        details = [
            FieldError(field=".".join(str(p) for p in e.get("loc", ())) or "body", message=e.get("msg", "invalid"))
            for e in exc.errors(include_url=False)
        ]
        raise ValidationFailed("The frame is not valid: send subscribe, unsubscribe or ping.", details) from exc


def encode(frame_type: str, data: dict[str, Any], **extra: Any) -> bytes:
    return json.dumps({"type": frame_type, "data": data, **extra}, separators=(",", ":")).encode()


def error(problem: ApiError) -> bytes:
    """The platform's error shape (docs/api.md) as a frame."""
    return encode(
        "error",
        {
            "error": {
                "code": problem.code,
                "message": problem.message,
                "details": [{"field": d.field, "message": d.message} for d in problem.details],
            },
            "traceId": current_trace_id(),
        },
    )


def close(code: int, reason: str) -> bytes:
    return encode("close", {"code": code, "reason": reason})
