"""The one guarded JSON reader, and vendor JSON kept exactly: numbers as their literal text, any string.

Every JSON text the platform parses (a request body, a queue message, a vendor's
answer, a cursor, a secret's value) goes through ``read``: a text larger than
its caller allows, or nested deeper than ``MAX_DEPTH`` (or the caller's lower
bound), is refused with ``JsonRejected`` (a ``ValueError``) before it is parsed,
so no parser or walker recurses until Python's ``RecursionError`` (a 500) and a
huge body is not decoded at all. Nesting is measured on the text at C speed
(``depth``), and not at all when the text holds fewer opening brackets than the
bound (``bench/json_reader.py``: about 1.5 times the parse on bracket-heavy text).

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
from collections.abc import Callable
from decimal import Decimal
from itertools import accumulate, repeat
from operator import sub
from typing import Any

_LONE = re.compile("[\ud800-\udfff]")
_NOT_BRACKETS = str.maketrans("", "", "".join(chr(c) for c in range(128) if chr(c) not in "[]{}"))
# Less one, the step of each bracket: +1 opening, -1 closing.
_STEPS = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")
# Far past any real document, well inside the recursion limit of everything that walks one after parsing.
MAX_DEPTH = 256
MAX_BYTES = 8 * 1024 * 1024


class JsonRejected(ValueError):
    """A text ``read`` refuses: ``reason`` is ``"size"``, ``"depth"`` or ``"syntax"``."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def depth(text: str) -> int:
    """How deeply the text's arrays and objects nest (brackets inside strings do not count).

    All at C speed and linear: strings go first (escaped backslashes and quotes removed, then every
    quoted stretch), then every character but a bracket (``str.translate``); each opening bracket
    becomes +1 and each closing one -1, and the deepest running sum is the nesting.
    """
    outside = "".join(text.replace("\\\\", "").replace('\\"', "").split('"')[::2])
    steps = outside.translate(_NOT_BRACKETS).encode("ascii", "ignore").translate(_STEPS)
    return max(accumulate(map(sub, steps, repeat(1))), default=0)


def read(
    text: str | bytes,
    *,
    max_bytes: int = MAX_BYTES,
    max_depth: int = MAX_DEPTH,
    parse_int: Callable[[str], Any] | None = None,
    parse_float: Callable[[str], Any] | None = None,
    parse_constant: Callable[[str], Any] | None = None,
) -> Any:
    """Parse JSON (bytes in any encoding ``json`` detects) within a size and a nesting bound, or ``JsonRejected``."""
    if len(text) > max_bytes:
        raise JsonRejected("size", f"the JSON text is larger than {max_bytes} bytes")
    if isinstance(text, bytes):
        try:
            text = text.decode(json.detect_encoding(text), "surrogatepass")
        except UnicodeDecodeError as exc:
            raise JsonRejected("syntax", f"the JSON text is not valid Unicode: {exc}") from exc
    if text.count("[") + text.count("{") > max_depth and depth(text) > max_depth:
        raise JsonRejected("depth", f"the JSON text is nested deeper than {max_depth} levels")
    try:
        return json.loads(text, parse_int=parse_int, parse_float=parse_float, parse_constant=parse_constant)
    except RecursionError as exc:  # an unbalanced text the scan could not measure
        raise JsonRejected("depth", "the JSON text is nested too deeply") from exc
    except ValueError as exc:
        raise JsonRejected("syntax", f"not JSON: {exc}") from exc


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
    """Parse vendor JSON (``read``), keeping every non-integer number as its literal (``JsonNumber``)."""
    return read(text, parse_float=JsonNumber, parse_constant=_constant)


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
