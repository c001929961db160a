"""Declaring an operation or a request field deprecated, with a sunset date.

A deprecated operation (``endpoint(..., deprecated=Deprecation(...))``)
answers every call, errors included, with the headers of RFC 9745 and
RFC 8594: ``Deprecation: @<epoch>`` (when it was or will be deprecated),
``Sunset: <HTTP-date>`` (when it may stop answering) and
``Link: <doc>; rel="deprecation"`` (what to do instead). A deprecated request
field (``Field(**deprecated_field(...))``) sends the same headers only when a
request actually uses it, so a client can tell which of its calls need work.
The OpenAPI document marks both ``deprecated: true`` and carries the dates and
link as ``x-deprecated-since``, ``x-sunset`` and ``x-deprecation-link``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from pydantic import BaseModel


@dataclass(frozen=True)
class Deprecation:
    since: datetime
    sunset: datetime
    link: str

    def headers(self) -> dict[str, str]:
        return {
            "Deprecation": f"@{int(self.since.timestamp())}",
            "Sunset": format_datetime(self.sunset.astimezone(UTC), usegmt=True),
            "Link": f'<{self.link}>; rel="deprecation"',
        }

    def extensions(self) -> dict[str, str]:
        return {
            "x-deprecated-since": _iso(self.since),
            "x-sunset": _iso(self.sunset),
            "x-deprecation-link": self.link,
        }


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def on(since: str, sunset: str, link: str) -> Deprecation:
    """``since`` and ``sunset`` as ISO dates or times (UTC when no offset is given)."""
    return Deprecation(_parse(since), _parse(sunset), link)


def _parse(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def deprecated_field(message: str, *, since: str, sunset: str, link: str) -> dict[str, Any]:
    """Keyword arguments for pydantic ``Field``: its own ``deprecated`` plus the dates and link."""
    dates = on(since, sunset, link)
    return {"deprecated": message, "json_schema_extra": dates.extensions()}


def used_by(model: BaseModel | None) -> Deprecation | None:
    """The deprecation (soonest sunset) of any deprecated field the request sent, at any depth."""
    if model is None:
        return None
    found: list[Deprecation] = []
    for name in model.model_fields_set:
        info = type(model).model_fields[name]
        extra = info.json_schema_extra
        if info.deprecated and isinstance(extra, dict):
            found.append(on(str(extra["x-deprecated-since"]), str(extra["x-sunset"]), str(extra["x-deprecation-link"])))
        value = model.__dict__.get(name)
        nested = value if isinstance(value, list) else [value]
        found += [d for item in nested if isinstance(item, BaseModel) and (d := used_by(item)) is not None]
    return min(found, key=lambda d: d.sunset) if found else None
