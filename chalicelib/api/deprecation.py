"""Deprecating a route or a request field, with a sunset date a client can act on.

A deprecated route answers every response (errors included) with ``Deprecation``
(RFC 9745: ``@<epoch seconds>`` of the day it was deprecated), ``Sunset`` (RFC 8594: the
HTTP date after which it may stop working) and ``Link: <doc>; rel="deprecation"``, and
``/openapi.json`` marks the operation ``deprecated`` with ``x-sunset``. A request field is
deprecated with :func:`deprecated_field`: pydantic marks it ``deprecated`` in the schema, and
the headers are sent only when a request actually uses it (docs/api.md "Deprecation").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from email.utils import format_datetime
from typing import Any

from pydantic import BaseModel, Field, JsonValue

_SINCE, _SUNSET, _DOC = "x-deprecated-since", "x-sunset", "x-deprecation-doc"


@dataclass(frozen=True)
class Deprecation:
    since: date
    sunset: date
    doc: str  # the page that says what to use instead

    def headers(self) -> dict[str, str]:
        since = int(datetime.combine(self.since, time(), UTC).timestamp())
        sunset = format_datetime(datetime.combine(self.sunset, time(), UTC), usegmt=True)
        return {"Deprecation": f"@{since}", "Sunset": sunset, "Link": f'<{self.doc}>; rel="deprecation"'}


def deprecated_field(deprecation: Deprecation, message: str, **field: Any) -> Any:
    """``Field(...)`` for a request field on its way out: the schema says so, a request using it is told."""
    extra: dict[str, JsonValue] = {
        _SINCE: deprecation.since.isoformat(),
        _SUNSET: deprecation.sunset.isoformat(),
        _DOC: deprecation.doc,
    }
    return Field(deprecated=message, json_schema_extra=extra, **field)


def used_in(body: Any) -> Deprecation | None:
    """The deprecation with the earliest sunset among the top-level fields this request body set."""
    if not isinstance(body, BaseModel):
        return None
    found: list[Deprecation] = []
    for name in body.model_fields_set:
        extra = type(body).model_fields[name].json_schema_extra
        if isinstance(extra, dict) and _SUNSET in extra:
            since, sunset, doc = (str(extra[key]) for key in (_SINCE, _SUNSET, _DOC))
            found.append(Deprecation(date.fromisoformat(since), date.fromisoformat(sunset), doc))
    return min(found, key=lambda d: d.sunset) if found else None
