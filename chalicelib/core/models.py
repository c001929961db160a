"""Base pydantic models: camelCase on the wire, strict requests, the error shape."""

from __future__ import annotations

import json
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, GetCoreSchemaHandler, WithJsonSchema
from pydantic.alias_generators import to_camel
from pydantic_core import CoreSchema, core_schema

from chalicelib.core import json_input


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


def _storable(value: dict[str, Any]) -> dict[str, Any]:
    """A free-form document's own limits: size, depth and non-empty keys.

    Strings and numbers are checked once for every request body, before any model
    (``chalicelib/core/json_input.py``), so they are not checked again here.
    """
    _check_storable(value)
    if len(json.dumps(value, separators=(",", ":"))) > MAX_DOCUMENT_BYTES:
        raise ValueError(f"larger than {MAX_DOCUMENT_BYTES} bytes")
    return value


# Schemas that are not models but that several fields share: /openapi.json lists them as components.
SHARED_SCHEMAS: dict[str, dict[str, Any]] = {}


def shared_schema(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """Make ``schema`` the component ``name`` of /openapi.json; the ``$ref`` to put where it applies."""
    SHARED_SCHEMAS[name] = schema
    return {"$ref": f"#/components/schemas/{name}"}


# What a free-form document may hold, stated in /openapi.json as the component ``JsonValue``: the number limits of
# ``json_input`` (DynamoDB's range, 38 integer digits) and non-empty keys at every level. Depth and size limits
# stay in the validators and the docs: a schema cannot count nesting.
_JSON_VALUE_REF = {"$ref": "#/components/schemas/JsonValue"}
_OBJECT_OF_VALUES = {"type": "object", "propertyNames": {"minLength": 1}, "additionalProperties": _JSON_VALUE_REF}
_LARGEST_INTEGER = 10**json_input.MAX_INTEGER_DIGITS - 1
_SMALLEST, _LARGEST = float(json_input.SMALLEST), 9.99e125
shared_schema(
    "JsonValue",
    {
        "anyOf": [
            {"type": "string"},
            {"type": "boolean"},
            {"type": "integer", "minimum": -_LARGEST_INTEGER, "maximum": _LARGEST_INTEGER},
            {
                "type": "number",
                "minimum": -_LARGEST,
                "maximum": _LARGEST,
                "not": {"exclusiveMinimum": -_SMALLEST, "exclusiveMaximum": _SMALLEST, "not": {"const": 0}},
            },
            {"type": "array", "items": _JSON_VALUE_REF},
            _OBJECT_OF_VALUES,
            {"type": "null"},
        ],
    },
)
JsonObject = Annotated[dict[str, Any], AfterValidator(_storable), Field(json_schema_extra=_OBJECT_OF_VALUES)]


# The rules a model validator enforces across fields, stated in its JSON Schema too (``json_schema_extra``), so
# that /openapi.json says what a request must hold and generated clients know it: a field "given" is present
# and not null.
def _given(name: str) -> dict[str, Any]:
    return {"required": [name], "properties": {name: {"not": {"type": "null"}}}}


def exactly_one_of(*names: str) -> dict[str, Any]:
    return {"oneOf": [_given(name) for name in names]}


def at_least_one_of(*names: str) -> dict[str, Any]:
    return {"anyOf": [_given(name) for name in names]}


def not_both(first: str, second: str) -> dict[str, Any]:
    return {"not": {"allOf": [_given(first), _given(second)]}}


def some_field_none_null(schema: dict[str, Any]) -> None:
    """A partial update (``json_schema_extra``): at least one field, and none of them null."""
    schema["minProperties"] = 1
    for prop in schema.get("properties", {}).values():
        kept = [branch for branch in prop.pop("anyOf", []) if branch != {"type": "null"}]
        if kept:
            prop.pop("default", None)
            prop.update(kept[0] if len(kept) == 1 else {"anyOf": kept})


class _HttpUrlText:
    """pydantic's ``HttpUrl`` check (pydantic-core's URL validator: http or https, at most 2083 characters,
    normalized), kept as the ``str`` it normalizes to.

    ``pydantic.HttpUrl`` lives in ``pydantic.networks``, which imports ``importlib.metadata`` (and with it
    ``email`` and ``zipfile``) to look for ``email-validator``: a cost on every function that reads a
    connection or a provider, for a type whose only use here is ``str(url)``.
    """

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        url = core_schema.url_schema(max_length=2083, allowed_schemes=["http", "https"])
        return core_schema.no_info_after_validator_function(str, url, serialization=core_schema.to_string_ser_schema())


HttpUrl = Annotated[
    str, _HttpUrlText, WithJsonSchema({"type": "string", "format": "uri", "minLength": 1, "maxLength": 2083})
]


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
