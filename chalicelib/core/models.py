"""Base pydantic models: camelCase on the wire, strict requests, the error shape."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class WireModel(BaseModel):
    """A response or stored shape: camelCase aliases, snake_case in Python."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=False)


class RequestModel(WireModel):
    """A request body: unknown fields are an error so typos never pass silently."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


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
