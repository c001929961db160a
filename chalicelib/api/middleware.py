"""The HTTP middleware every route passes through.

It fixes the trace id before anything logs, turns every ``ApiError`` (and
anything unexpected: 503 with ``Retry-After`` when it is a transient AWS
failure, else 500) into the one error shape, and rewrites Chalice's own error
bodies (405, 415, 500) into it. ``Accept`` is checked per route by ``endpoint``,
which knows what each route produces.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice.app import Request, Response

from chalicelib.api.rendering import error_response
from chalicelib.core import jsontext
from chalicelib.core.context import set_trace_id, trace_id_from_headers
from chalicelib.core.errors import (
    ApiError,
    MethodNotAllowed,
    UnsupportedMediaType,
    ValidationFailed,
    unexpected,
)
from chalicelib.core.logging import logger


def _chalice_error(response: Response) -> ApiError | None:
    """Chalice answers some requests itself with ``{"Code", "Message"}`` bodies."""
    body: Any = response.body
    if isinstance(body, str) and response.status_code >= 400:
        try:
            body = jsontext.read(body)
        except ValueError:
            return None
    if not isinstance(body, dict) or set(body) != {"Code", "Message"}:
        return None
    message = str(body["Message"])
    if response.status_code == 405:
        allowed = {k: str(v) for k, v in response.headers.items() if k.lower() == "allow"}
        return MethodNotAllowed(message, headers=allowed)
    if response.status_code == 415:
        return UnsupportedMediaType(message)
    if response.status_code == 400:
        return ValidationFailed(message)
    return ApiError("An internal error occurred.")


def http_middleware(request: Request, get_response: Callable[[Request], Response]) -> Response:
    headers = request.headers
    trace_id = trace_id_from_headers(headers.get("traceparent"), headers.get("x-correlation-id"))
    set_trace_id(trace_id)
    logger.append_keys(trace_id=trace_id)
    try:
        response = get_response(request)
        converted = _chalice_error(response)
        if converted is not None:
            response = error_response(converted)
    except ApiError as error:
        response = error_response(error)
    except Exception as exc:
        logger.exception("unhandled error", extra={"path": request.path, "method": request.method})
        response = error_response(unexpected(exc))
    if response.status_code >= 500:
        logger.error("request failed", extra={"path": request.path, "status": response.status_code})
    response.headers["X-Trace-Id"] = trace_id
    return response
