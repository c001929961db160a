"""The ``/docs`` page: one self-contained HTML file that renders ``/openapi.json`` in the browser.

It ships inside the package (no CDN, no external fonts) so it works on a
network with no internet access; it is read on first request, not at import.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files


@cache
def docs_html() -> str:
    return files("chalicelib.system").joinpath("static", "docs.html").read_text(encoding="utf-8")
