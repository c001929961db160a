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
from itertools import accumulate, repeat
from operator import sub
from typing import Any

MAX_DEPTH = 256
MAX_BYTES = 64 * 1024 * 1024
_NOT_BRACKETS = str.maketrans("", "", "".join(chr(c) for c in range(128) if chr(c) not in "[]{}"))
# Less one, the step of each bracket: +1 opening, -1 closing.
_STEPS = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")


class JsonRejected(ValueError):
    """A text ``read`` refuses: too large, nested too deeply, or not JSON."""


def depth(text: str) -> int:
    """How deeply the text's arrays and objects nest (brackets inside strings do not count).

    All at C speed and linear: strings go first (escaped backslashes and quotes removed, then every
    quoted stretch), then every character but a bracket (``str.translate``); each opening bracket
    becomes +1 and each closing one -1, and the deepest running sum is the nesting.
    """
    outside = "".join(text.replace("\\\\", "").replace('\\"', "").split('"')[::2])
    steps = outside.translate(_NOT_BRACKETS).encode("ascii", "ignore").translate(_STEPS)
    return max(accumulate(map(sub, steps, repeat(1))), default=0)


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
