"""The console and portal files: served from the package with a strict CSP, nothing outside the asset list."""

from __future__ import annotations

import re

import pytest

from chalicelib.system.console_pages import ASSETS
from tests.support.api_client import ApiClient


@pytest.mark.parametrize("path", ["/console", "/portal", *(f"/console/{name}" for name in sorted(ASSETS))])
def test_every_page_and_file_is_served_with_a_strict_policy(client: ApiClient, path: str) -> None:
    reply = client.get(path, token="")
    assert reply.status == 200, reply.body
    assert "default-src 'self'" in (reply.header("Content-Security-Policy") or "")
    assert reply.header("X-Content-Type-Options") == "nosniff"


@pytest.mark.parametrize("name", ["..%2Fdocs.html", "docs.html", "console.py", "missing.js"])
def test_anything_else_is_404(client: ApiClient, name: str) -> None:
    assert client.get(f"/console/{name}", token="").status == 404


def test_the_pages_load_nothing_from_elsewhere_and_never_parse_api_data_as_html(client: ApiClient) -> None:
    for name in sorted(ASSETS):
        text = client.get(f"/console/{name}", token="").body.decode()
        assert not re.search(r"(src|href)=\"(https?:)?//", text), name
        assert "innerHTML" not in text and "insertAdjacentHTML" not in text and "document.write" not in text, name


def test_the_development_sign_in_is_not_part_of_the_app(client: ApiClient) -> None:
    """Only the local runtime's HTTP front answers it (infra/local/server.py); a deployed stage has no such route."""
    assert client.get("/.well-known/dev-sign-in", token="").status == 404
    assert client.post("/.well-known/dev-sign-in", {"tenant": "acme"}, token="").status == 404
