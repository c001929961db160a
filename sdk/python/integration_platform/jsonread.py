"""The SDK's one JSON reader: bounded size and nesting, so no answer or webhook body can crash a caller.

Python's ``json`` recurses once per level and raises ``RecursionError`` (not a
``ValueError``) about a thousand levels down, which no caller expects from a
parse. ``read`` refuses a text larger than ``max_bytes`` or nested deeper than
``max_depth`` with ``JsonRejected``, a ``ValueError``, before parsing it. The
platform's own reader (``chalicelib.core.jsontext.read``) follows the same rule;
the SDK ships apart from the platform, so it carries its own.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 256
MAX_BYTES = 64 * 1024 * 1024
_STRINGS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")


class JsonRejected(ValueError):
    """A text ``read`` refuses: too large, nested too deeply, or not JSON."""


def depth(text: str) -> int:
    """How deeply the text's arrays and objects nest (brackets inside strings do not count)."""
    level = deepest = 0
    for bracket in _NOT_BRACKETS.sub("", _STRINGS.sub("", text)):
        if bracket in "[{":
            level += 1
            deepest = max(deepest, level)
        else:
            level -= 1
    return deepest


def read(text: str | bytes, *, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON (bytes in any encoding ``json`` detects) within a size and a nesting bound."""
    if len(text) > max_bytes:
        raise JsonRejected(f"the JSON text is larger than {max_bytes} bytes")
    if isinstance(text, bytes):
        try:
            text = text.decode(json.detect_encoding(text), "surrogatepass")
        except UnicodeDecodeError as error:
            raise JsonRejected(f"the JSON text is not valid Unicode: {error}") from error
    if text.count("[") + text.count("{") > max_depth and depth(text) > max_depth:
        raise JsonRejected(f"the JSON text is nested deeper than {max_depth} levels")
    try:
        return json.loads(text)
    except RecursionError as error:
        raise JsonRejected("the JSON text is nested too deeply") from error
    except ValueError as error:
        raise JsonRejected(f"not JSON: {error}") from error
