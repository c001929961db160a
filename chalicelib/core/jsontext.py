"""Vendor JSON kept exactly: numbers as their literal text, any string, any depth.

Python's ``json`` turns ``1e-400`` into ``0.0`` and ``1e400`` into ``inf`` (which
it then writes as the invalid ``Infinity``), and DynamoDB refuses numbers beyond
38 digits. A signed vendor delivery must never be refused or changed for its
content, so the platform reads vendor JSON with every non-integer number kept
as a ``JsonNumber`` (its literal text), stores it as compressed text, and writes
it back with the literal untouched. Integers need nothing: Python's are exact.

``dumps`` writes ASCII only, so a lone surrogate (``"\\ud800"``) stays the
escape the vendor sent instead of becoming bytes no UTF-8 codec accepts.
``for_api`` gives the same value in a shape any JSON renderer can write.
"""

from __future__ import annotations

import json
import math
import re
import zlib
from decimal import Decimal
from typing import Any

_LONE = re.compile("[\ud800-\udfff]")


class JsonNumber(str):
    """A JSON number's literal text: a binary float could change it (``1e-400`` is not ``0.0``)."""

    __slots__ = ()


def _api_number(number: JsonNumber) -> float | str:
    """A float when it reads back as the same number (``1.50`` is ``1.5``), else the literal text."""
    literal = str.__str__(number)
    value = float(literal)
    if math.isfinite(value) and Decimal(literal) == Decimal(repr(value)):
        return value
    return literal


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def loads(text: str | bytes) -> Any:
    """Parse JSON, keeping every non-integer number as its literal (``JsonNumber``)."""
    return json.loads(text, parse_float=JsonNumber, parse_constant=_constant)


def _write(value: Any, out: list[str]) -> None:
    if isinstance(value, JsonNumber):
        out.append(str.__str__(value))
    elif isinstance(value, str):
        out.append(json.dumps(value))
    elif isinstance(value, dict):
        out.append("{")
        for i, (key, item) in enumerate(value.items()):
            if i:
                out.append(",")
            out.append(json.dumps(str(key)))
            out.append(":")
            _write(item, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        out.append(json.dumps(value, allow_nan=False))


def dumps(value: Any) -> str:
    """Compact, ASCII-only JSON text with ``JsonNumber`` literals written as numbers."""
    out: list[str] = []
    _write(value, out)
    return "".join(out)


def compress(value: Any) -> bytes:
    return zlib.compress(dumps(value).encode("ascii"))


def decompress(blob: bytes) -> Any:
    return loads(zlib.decompress(blob))


def for_api(value: Any) -> Any:
    """The value as any JSON renderer can write it, for API views.

    A number a float holds is a float; one it does not (``1e-400``) is shown as its
    literal text; a lone surrogate becomes U+FFFD. Webhooks carry the exact value.
    """
    if isinstance(value, JsonNumber):
        return _api_number(value)
    if isinstance(value, dict):
        return {_LONE.sub("\ufffd", key): for_api(item) for key, item in value.items()}
    if isinstance(value, list):
        return [for_api(item) for item in value]
    if isinstance(value, str):
        return _LONE.sub("\ufffd", value)
    return value
