"""The operator console (``/console``) and the subscriber portal (``/portal``): static files shipped in the package.

Like ``/docs`` they need no CDN and no build step: plain HTML, ES modules and
CSS that call the public API with the caller's own credentials. Only names in
``ASSETS`` are served, so a path can never reach another file.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}
ASSETS = frozenset(
    {
        "console.html",
        "portal.html",
        "console.js",
        "page.js",
        "connections.js",
        "deliveries.js",
        "outbound.js",
        "runs.js",
        "portal.js",
        "common.js",
        "destinations.js",
        "plots.js",
        "live.js",
        "console.css",
    }
)
# No script or style from anywhere else, no framing; the pages only talk to this origin.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def asset(name: str) -> tuple[str, str] | None:
    """The file's text and content type, or None when ``name`` is not a console asset.

    Checked before the cache: the route is public, and caching every name asked for would grow for ever.
    """
    return _read(name) if name in ASSETS else None


@cache
def _read(name: str) -> tuple[str, str]:
    text = files("chalicelib.system").joinpath("static", "console", name).read_text(encoding="utf-8")
    return text, CONTENT_TYPES[name[name.rindex(".") :]]
