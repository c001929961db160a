"""Walking JSON bodies for their timestamps, guided by ``/openapi.json`` and by field names.

Two independent nets: every value the document declares ``format: date-time`` must
match the one form, and so must every value whose key names a time (``…At``,
``…Since``, ``timestamp``, ``…Date``) whether or not the document declared it, so
a field someone forgot to type is caught too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from chalicelib.core.timestamps import PATTERN

ONE_FORM = re.compile(PATTERN)
TIME_KEY = re.compile(r"(At|Since|Date|^timestamp)$")
# Keys whose subtrees are not ours: vendor payloads, caller data, free-form documents.
FOREIGN = {"payload", "parameters", "configuration", "result", "responseBody", "body"}


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        node: Any = document
        for part in schema["$ref"][2:].split("/"):
            node = node[part]
        schema = node
    return schema


Found = Iterator[tuple[str, Any]]


def declared_times(document: dict[str, Any], schema: dict[str, Any], value: Any, path: str = "$") -> Found:
    """``(path, value)`` for every value that ``schema`` declares ``format: date-time``."""
    schema = resolve(document, schema)
    if value is None:
        return
    if schema.get("format") == "date-time":
        yield path, value
    for option in schema.get("anyOf", []) + schema.get("oneOf", []) + schema.get("allOf", []):
        yield from declared_times(document, option, value, path)
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        for key, item in value.items():
            if key in properties:
                yield from declared_times(document, properties[key], item, f"{path}.{key}")
            elif isinstance(schema.get("additionalProperties"), dict):
                yield from declared_times(document, schema["additionalProperties"], item, f"{path}.{key}")
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            yield from declared_times(document, schema["items"], item, f"{path}[{index}]")


def named_times(value: Any, path: str = "$") -> Iterator[tuple[str, Any]]:
    """``(path, value)`` for every value whose key names a time, outside foreign subtrees."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in FOREIGN:
                continue
            if TIME_KEY.search(key) and item is not None:
                yield f"{path}.{key}", item
            yield from named_times(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from named_times(item, f"{path}[{index}]")


def off_form(found: Iterator[tuple[str, Any]]) -> list[str]:
    return [f"{path}={value!r}" for path, value in found if not (isinstance(value, str) and ONE_FORM.match(value))]
