"""What the guarded JSON reader (``chalicelib.core.jsontext.read``) costs over ``json.loads``.

Every body the platform parses goes through the reader (docs/reliability.md, issue 21): it bounds
size and nesting before parsing. A text with fewer opening brackets than the bound (256) skips the
nesting scan; a larger one pays a few C-speed passes (``jsontext.depth``). Timed here
on vendor-like documents (GitHub push payloads, brackets inside strings included), best of five
rounds, so a shared machine's noise stays out of the figure.

    .venv/bin/python -m bench.json_reader
"""

from __future__ import annotations

import json
import timeit
from collections.abc import Callable
from functools import partial
from typing import Any

from chalicelib.core import jsontext


def push(commits: int) -> str:
    """A GitHub push payload with ``commits`` commits (messages hold brackets, as real ones do)."""
    return json.dumps(
        {
            "ref": "refs/heads/main",
            "repository": {"id": 1, "full_name": "acme/api", "topics": ["api", "billing"]},
            "commits": [
                {
                    "id": f"{n:040x}",
                    "message": f"fix [BUG-{n}] handle {{empty}} lists",
                    "author": {"name": "dev", "email": "dev@example.com"},
                    "added": ["src/app.py"],
                    "modified": [],
                    "removed": [],
                }
                for n in range(commits)
            ],
        }
    )


def best_ms(call: Callable[[], Any], number: int) -> float:
    return min(timeit.repeat(call, number=number, repeat=5)) / number * 1000


def main() -> None:
    for commits in (5, 40, 400):
        text = push(commits)
        number = max(5, 20_000 // len(text))
        plain = best_ms(partial(json.loads, text), number)
        guarded = best_ms(partial(jsontext.read, text), number)
        print(
            f"{len(text) / 1024:7.1f} KB ({commits} commits): json.loads {plain:.3f} ms, "
            f"jsontext.read {guarded:.3f} ms (x{guarded / plain:.1f})"
        )
    deep = "[" * 1000 + "]" * 1000
    print(f"refused 1,000-deep text in {best_ms(lambda: _refuse(deep), 200):.3f} ms (json.loads: RecursionError)")


def _refuse(text: str) -> None:
    try:
        jsontext.read(text)
    except jsontext.JsonRejected:
        return
    raise AssertionError("a 1,000-deep text was read")


if __name__ == "__main__":
    main()
