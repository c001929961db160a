"""The HTTP middleware every route passes through.

It fixes the trace id before anything logs, enforces API versioning by
``Accept``, turns every ``ApiError`` (and anything unexpected) into the one
error shape, and rewrites Chalice's own error bodies (405, 415, 500) into it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from chalice.app import Request, Response

from chalicelib.api.rendering import error_response
from chalicelib.core import jsontext
from chalicelib.core.context import set_trace_id, trace_id_from_headers
from chalicelib.core.errors import (
    ApiError,
    MethodNotAllowed,
    NotAcceptable,
    UnsupportedMediaType,
    ValidationFailed,
)
from chalicelib.core.logging import logger

VENDOR_MEDIA = re.compile(r"^application/vnd\.connectsoft\.integration\.v(\d+)\+json$")
CURRENT_MAJOR = 1
_GENERIC_ACCEPTS = {"*/*", "application/*", "application/json"}


def check_accept(accept: str | None, path: str) -> None:
    """``Accept`` picks the major version; none, JSON or ``*/*`` mean the current one."""
    if not accept or not accept.strip():
        return
    offered = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    for media in offered:
        if media in _GENERIC_ACCEPTS or (path == "/docs" and media in {"text/html", "text/*"}):
            return
        match = VENDOR_MEDIA.match(media)
        if match and int(match.group(1)) == CURRENT_MAJOR:
            return
    raise NotAcceptable(
        f"None of the media types in Accept can be served; use "
        f"application/vnd.connectsoft.integration.v{CURRENT_MAJOR}+json or application/json."
    )


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
        check_accept(headers.get("accept"), request.path)
        response = get_response(request)
        converted = _chalice_error(response)
        if converted is not None:
            response = error_response(converted)
    except ApiError as error:
        response = error_response(error)
    except Exception:
        logger.exception("unhandled error", extra={"path": request.path, "method": request.method})
        response = error_response(ApiError("An internal error occurred."))
    if response.status_code >= 500:
        logger.error("request failed", extra={"path": request.path, "status": response.status_code})
    response.headers["X-Trace-Id"] = trace_id
    return response
