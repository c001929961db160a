"""Turning a raw HTTP request into validated models, or a precise 4xx."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from chalicelib.core import json_input
from chalicelib.core.config import get_settings
from chalicelib.core.errors import FieldError, PayloadTooLarge, UnsupportedMediaType, ValidationFailed

ModelT = TypeVar("ModelT", bound=BaseModel)


def field_errors(exc: ValidationError) -> list[FieldError]:
    details = []
    for error in exc.errors(include_url=False):
        location = ".".join(str(part) for part in error.get("loc", ()) if part != "__root__")
        details.append(FieldError(field=location or "body", message=error.get("msg", "invalid")))
    return details


def check_size(raw_body: bytes) -> None:
    limit = get_settings().max_body_bytes
    if len(raw_body) > limit:
        raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")


def parse_json_body(headers: Mapping[str, str], raw_body: bytes, model: type[ModelT]) -> ModelT:
    check_size(raw_body)
    content_type = (headers.get("content-type") or "").split(";")[0].strip().lower()
    if not raw_body.strip():
        raise ValidationFailed("A JSON request body is required.", [FieldError("body", "required")])
    if content_type and content_type != "application/json" and not content_type.endswith("+json"):
        raise UnsupportedMediaType(f"Send the body as application/json, not {content_type}.")
    document: Any = json_input.decode(raw_body)  # valid Unicode, storable numbers, bounded depth
    if not isinstance(document, dict):
        raise ValidationFailed("The request body must be a JSON object.", [FieldError("body", "not an object")])
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        raise ValidationFailed("The request body is not valid.", field_errors(exc)) from exc


def parse_query(params: Mapping[str, str] | None, model: type[ModelT]) -> ModelT:
    try:
        return model.model_validate(dict(params or {}))
    except ValidationError as exc:
        raise ValidationFailed("The query parameters are not valid.", field_errors(exc)) from exc
