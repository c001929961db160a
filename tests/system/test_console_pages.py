"""The console and portal files: served from the package with a strict CSP, nothing outside the asset list."""

from __future__ import annotations

import re
from importlib.resources import files

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


def test_every_file_of_the_pages_is_served_and_each_script_is_a_small_module() -> None:
    """A module no asset names would 404 in the browser; the guide's ~400-line bound holds for scripts too."""
    directory = files("chalicelib.system").joinpath("static", "console")
    shipped = {entry.name for entry in directory.iterdir()}
    assert shipped - {"console.html", "portal.html"} == ASSETS - {"console.html", "portal.html"}
    for name in sorted(n for n in ASSETS if n.endswith(".js")):
        text = directory.joinpath(name).read_text(encoding="utf-8")
        assert text.count("\n") < 400, name
        assert set(re.findall(r'from "\./([\w-]+\.js)"', text)) <= ASSETS, name


def test_the_development_sign_in_is_not_part_of_the_app(client: ApiClient) -> None:
    """Only the local runtime's HTTP front answers it (infra/local/server.py); a deployed stage has no such route."""
    assert client.get("/.well-known/dev-sign-in", token="").status == 404
    assert client.post("/.well-known/dev-sign-in", {"tenant": "acme"}, token="").status == 404
