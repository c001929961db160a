"""The /docs page: public HTML, fully offline, and its renderer really renders the served document."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from typing import Any

import pytest

from tests.support.api_client import ApiClient, Reply
from tests.support.waiting import WAIT_SECONDS

EXTERNAL_URL = re.compile(r"https?://(?!127\.0\.0\.1|localhost)[^\s\"'<>]+", re.IGNORECASE)
NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="Node.js is not installed")

# Runs the page's script in Node with no DOM: ``render`` is pure (document in, HTML string out).
RENDER_IN_NODE = """
const vm = require("vm");
const fs = require("fs");
const input = JSON.parse(fs.readFileSync(0, "utf8"));
const context = {};
vm.runInNewContext(input.script, context);
process.stdout.write(context.render(input.spec));
"""


@pytest.fixture(scope="module")
def page(local_api: object) -> Reply:
    return ApiClient(local_api).get("/docs", headers={"Accept": "text/html"})  # type: ignore[arg-type]


def test_docs_is_public_html(page: Reply) -> None:
    assert page.status == 200, page.body
    assert (page.header("Content-Type") or "").startswith("text/html")
    assert page.header("X-Trace-Id")
    assert b"openapi.json" in page.body


def test_docs_needs_no_internet(page: Reply) -> None:
    html = page.body.decode()
    assert EXTERNAL_URL.findall(html) == []
    assert not re.search(r"<(?:script|img|iframe)[^>]+src=|<link[^>]+href=|@import|url\(", html, re.IGNORECASE)


def test_docs_page_is_small(page: Reply) -> None:
    assert page.body.decode().count("\n") < 400


def run_in_node(program: str, page: Reply, spec: dict[str, Any]) -> str:
    script = re.search(r"<script>(.*?)</script>", page.body.decode(), re.DOTALL)
    assert script is not None and NODE is not None
    payload = json.dumps({"script": script.group(1), "spec": spec})
    result = subprocess.run([NODE, "-e", program], input=payload, capture_output=True, text=True, timeout=WAIT_SECONDS)
    assert result.returncode == 0, result.stderr
    return result.stdout


@needs_node
def test_the_renderer_shows_every_operation_and_schema(page: Reply, document: dict[str, Any]) -> None:
    html = run_in_node(RENDER_IN_NODE, page, document)
    for path, item in document["paths"].items():
        assert f'<span class="path">{path}</span>' in html
        for operation in item.values():
            assert f'id="{operation["operationId"]}"' in html
            scope = operation.get("x-required-scope")
            assert (scope or "public") in html
    for name in document["components"]["schemas"]:
        assert f'<span class="path">{name}</span>' in html
    assert '<span class="req" title="required">*</span>' in html  # required markers
    assert "<code>Active</code>" in html  # enum values, resolved through $ref
    assert "<code>limit</code>" in html and "maximum: 100" in html  # query parameters and constraints
    assert "<code>details</code>" in html  # ErrorResponse.error.details: nested properties are expanded


@needs_node
def test_the_renderer_escapes_what_it_shows(page: Reply) -> None:
    hostile = {
        "info": {"title": "t", "version": "1"},
        "paths": {"/x": {"get": {"operationId": "x", "summary": "<img src=x onerror=alert(1)>", "responses": {}}}},
    }
    html = run_in_node(RENDER_IN_NODE, page, hostile)
    assert "<img" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


# The page's start-up path with the browser's few entry points it uses: fetch, getElementById, location.
BOOT_IN_NODE = """
const vm = require("vm");
const fs = require("fs");
const input = JSON.parse(fs.readFileSync(0, "utf8"));
const elements = {};
const element = (id) => (elements[id] ??= {
  id, innerHTML: "", listeners: {}, addEventListener(type, listener) { this.listeners[type] = listener; },
});
const context = {
  document: { title: "", getElementById: element },
  location: { hash: "" },
  fetch: async (url) => ({ ok: true, status: 200, json: async () => { context.fetched = url; return input.spec; } }),
};
vm.runInNewContext(input.script, context);
setTimeout(() => process.stdout.write(JSON.stringify({
  fetched: context.fetched, title: context.document.title, app: elements.app.innerHTML,
  intro: elements.intro.innerHTML, filter: typeof elements.filter.listeners.input,
})), 50);
"""


@needs_node
def test_the_page_fetches_the_document_relative_to_itself(page: Reply, document: dict[str, Any]) -> None:
    booted = json.loads(run_in_node(BOOT_IN_NODE, page, document))
    assert booted["fetched"] == "openapi.json"  # relative: works behind a stage prefix too
    assert booted["title"] == "Integration Platform API"
    assert "<code>Accept: application/vnd.connectsoft.integration.v1+json</code>" in booted["intro"]
    assert 'id="create_connection"' in booted["app"]
    assert booted["filter"] == "function"
