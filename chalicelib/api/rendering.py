"""The one JSON renderer: models and errors become Chalice responses."""

from __future__ import annotations

import json
from typing import Any

from chalice.app import Response
from pydantic import BaseModel

from chalicelib.core.context import current_trace_id
from chalicelib.core.errors import ApiError
from chalicelib.core.timestamps import WIRE

JSON = "application/json"
# Set on an answer to a repeated Idempotency-Key: the recorded first answer, or the resource the first attempt made.
REPLAYED_HEADER = "Idempotent-Replayed"


def to_wire(payload: BaseModel | dict[str, Any]) -> dict[str, Any]:
    if isinstance(payload, BaseModel):
        return payload.model_dump(mode="json", by_alias=True, exclude_none=True, context=WIRE)
    return payload


def json_response(
    payload: BaseModel | dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    body = json.dumps(to_wire(payload), separators=(",", ":"))
    return Response(body=body, status_code=status, headers={"Content-Type": JSON, **(headers or {})})


def error_response(error: ApiError) -> Response:
    body = {
        "error": {
            "code": error.code,
            "message": error.message,
            "details": [{"field": d.field, "message": d.message} for d in error.details],
        },
        "traceId": current_trace_id(),
    }
    headers = dict(error.headers)
    return json_response(body, status=error.status, headers=headers)
