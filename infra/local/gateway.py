"""API Gateway as the local runtime and the tests see it.

Wraps Chalice's ``LocalGateway`` (the same event conversion ``chalice local``
uses) and answers unmatched routes in the platform's error shape, as the
deployed API does through its gateway responses in ``infra/template.json``.

Chalice keeps the request being served in ``app.current_request``, one
attribute of the app object. Lambda never runs two invocations in one process
at once; the local server does, one thread per connection, so ``LocalApi``
keeps that attribute (and ``app.lambda_context``) per thread.
"""

from __future__ import annotations

import base64
import threading
from dataclasses import dataclass, field
from typing import Any

from chalice.app import Chalice, Request
from chalice.config import Config
from chalice.local import LocalGateway, LocalGatewayException

from chalicelib.api.rendering import error_response
from chalicelib.core.context import set_trace_id, trace_id_from_headers
from chalicelib.core.errors import NotFound
from infra.local.calls import acting_as

# The function Chalice deploys the REST API as (role ApiHandlerRole in the packaged template).
API_FUNCTION = "api_handler"


@dataclass
class GatewayResponse:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


class _Invocation(threading.local):
    """What Chalice stores on the app for the one invocation it is serving; each thread sees its own."""

    current_request: Request | None = None
    lambda_context: Any = None


class _InvocationPerThread:
    """Put in front of the app's class: ``current_request`` and ``lambda_context`` read and write per thread."""

    _invocation: _Invocation

    @property
    def current_request(self) -> Request | None:
        return self._invocation.current_request

    @current_request.setter
    def current_request(self, request: Request | None) -> None:
        self._invocation.current_request = request

    @property
    def lambda_context(self) -> Any:
        return self._invocation.lambda_context

    @lambda_context.setter
    def lambda_context(self, context: Any) -> None:
        self._invocation.lambda_context = context


def isolate_threads(app: Chalice) -> None:
    """Make ``app`` serve concurrent threads as Lambda serves concurrent invocations: each with its own request.

    Only this app object changes (its class gains the mixin above); routes, handlers and everything else
    Chalice reads stay shared, so the local SQS pollers and schedules call the same handlers as before.
    """
    if isinstance(app, _InvocationPerThread):
        return
    for name in ("current_request", "lambda_context"):
        app.__dict__.pop(name, None)
    app.__dict__["_invocation"] = _Invocation()
    app.__class__ = type(f"{type(app).__name__}PerThread", (_InvocationPerThread, type(app)), {})


class LocalApi:
    def __init__(self, app: Chalice) -> None:
        isolate_threads(app)
        self._gateway = LocalGateway(app, Config.create(chalice_app=app, app_name=app.app_name, lambda_timeout=60))

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> GatewayResponse:
        try:
            with acting_as(API_FUNCTION):
                raw: dict[str, Any] = self._gateway.handle_request(
                    method=method.upper(), path=path, headers=headers, body=body
                )
        except LocalGatewayException:
            lowered = {k.lower(): v for k, v in headers.items()}
            trace_id = trace_id_from_headers(lowered.get("traceparent"), lowered.get("x-correlation-id"))
            set_trace_id(trace_id)
            route = path.split("?", 1)[0]
            response = error_response(NotFound(f"No route matches {method.upper()} {route}."))
            response.headers["X-Trace-Id"] = trace_id
            raw = response.to_dict()
        payload = raw.get("body") or b""
        if isinstance(payload, str):
            payload = base64.b64decode(payload) if raw.get("isBase64Encoded") else payload.encode()
        response_headers = {k: str(v) for k, v in (raw.get("headers") or {}).items()}
        for name, values in (raw.get("multiValueHeaders") or {}).items():
            response_headers[name] = ", ".join(str(v) for v in values)
        return GatewayResponse(status=int(raw["statusCode"]), headers=response_headers, body=payload)
