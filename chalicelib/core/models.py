"""Base pydantic models: camelCase on the wire, strict requests, the error shape."""

from __future__ import annotations

import json
import math
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class WireModel(BaseModel):
    """A response or stored shape: camelCase aliases, snake_case in Python."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=False, defer_build=True)


class RequestModel(WireModel):
    """A request body: unknown fields are an error so typos never pass silently."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", defer_build=True)


MAX_DOCUMENT_BYTES = 64 * 1024
MAX_DOCUMENT_DEPTH = 16


def _check_storable(value: Any, depth: int = 0) -> None:
    if depth > MAX_DOCUMENT_DEPTH:
        raise ValueError(f"nested deeper than {MAX_DOCUMENT_DEPTH} levels")
    if isinstance(value, dict):
        for key, item in value.items():
            if not key:
                raise ValueError("keys must not be empty")
            _check_storable(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_storable(item, depth + 1)
    elif isinstance(value, bool):
        return
    elif isinstance(value, int) and abs(value) >= 10**38:
        raise ValueError("integers must have at most 38 digits")
    elif isinstance(value, float) and not (value == 0 or (math.isfinite(value) and 1e-128 < abs(value) < 1e125)):
        raise ValueError("numbers must lie between 1e-128 and 1e125")


def _storable(value: dict[str, Any]) -> dict[str, Any]:
    """Free-form JSON must fit DynamoDB's number, nesting and item limits, or it fails later as a 500."""
    _check_storable(value)
    if len(json.dumps(value, separators=(",", ":"))) > MAX_DOCUMENT_BYTES:
        raise ValueError(f"larger than {MAX_DOCUMENT_BYTES} bytes")
    return value


JsonObject = Annotated[dict[str, Any], AfterValidator(_storable)]


class ErrorDetail(WireModel):
    field: str
    message: str


class ErrorBody(WireModel):
    code: str
    message: str
    details: list[ErrorDetail] = Field(default_factory=list)


class ErrorResponse(WireModel):
    error: ErrorBody
    trace_id: str


class ListQuery(WireModel):
    limit: Annotated[int, Field(ge=1, le=100)] = 20
    cursor: str | None = None


ItemT = TypeVar("ItemT", bound=BaseModel)


class ListResponse(WireModel, Generic[ItemT]):
    items: list[ItemT]
    next_cursor: str | None = None
