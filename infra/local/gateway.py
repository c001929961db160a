"""API Gateway as the local runtime and the tests see it.

Wraps Chalice's ``LocalGateway`` (the same event conversion ``chalice local``
uses) and answers unmatched routes in the platform's error shape, as the
deployed API does through its gateway responses in ``infra/template.json``.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from chalice.app import Chalice
from chalice.config import Config
from chalice.local import LocalGateway, LocalGatewayException

from chalicelib.api.rendering import error_response
from chalicelib.core.context import set_trace_id, trace_id_from_headers
from chalicelib.core.errors import NotFound


@dataclass
class GatewayResponse:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


class LocalApi:
    def __init__(self, app: Chalice) -> None:
        self._gateway = LocalGateway(app, Config.create(chalice_app=app, app_name=app.app_name, lambda_timeout=60))

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> GatewayResponse:
        try:
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
