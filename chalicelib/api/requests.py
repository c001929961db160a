"""Turning a raw HTTP request into validated models, or a precise 4xx."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from chalicelib.core import json_input
from chalicelib.core.config import get_settings
from chalicelib.core.errors import (
    FieldError,
    NotAcceptable,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
)

ModelT = TypeVar("ModelT", bound=BaseModel)
JSON_MEDIA = ("application/json",)
HTML_MEDIA = ("text/html",)
VENDOR_MEDIA = re.compile(r"^application/vnd\.connectsoft\.integration\.v(\d+)\+json$")
CURRENT_MAJOR = 1


def check_accept(accept: str | None, produces: tuple[str, ...]) -> None:
    """``Accept`` must admit one of the media types the route declares it produces.

    No header or ``*/*`` admits anything. A JSON route also takes ``application/*`` and the versioned
    type, whose major picks the API version; pages take ``text/html`` and ``text/*``. Checked per
    route, so ``GET /console`` with ``Accept: text/html`` is served and a JSON route is not.
    """
    if not accept or not accept.strip():
        return
    for media in (part.split(";")[0].strip().lower() for part in accept.split(",")):
        if media == "*/*" or media in produces:
            return
        if media.endswith("/*") and any(produced.startswith(media[:-1]) for produced in produces):
            return
        match = VENDOR_MEDIA.match(media)
        if match and int(match.group(1)) == CURRENT_MAJOR and "application/json" in produces:
            return
    if "application/json" in produces:
        raise NotAcceptable(
            f"None of the media types in Accept can be served; use "
            f"application/vnd.connectsoft.integration.v{CURRENT_MAJOR}+json or application/json."
        )
    raise NotAcceptable(f"None of the media types in Accept can be served; this route serves {', '.join(produces)}.")


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
