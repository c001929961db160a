"""``POST /mcp`` driven by the official ``mcp`` client over HTTP against the local runtime.

A GitHub connection on the fake vendor gives the tenant tools; calls complete, fail (``isError``
with the run's code) and outlast ``MCP_CALL_WAIT_SECONDS`` (the run id and where to poll).
The runtime keeps the default wait (20 s), so a call that completes has room on a loaded
machine; the one that outlasts it is held at the fake vendor until the answer has come.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from tests.e2e.conftest import LocalRuntime, start_runtime
from tests.support.fake_vendor import Behavior, FakeVendor, held, serve_vendor
from tests.support.waiting import WAIT_SECONDS, poll

TOKEN = "ghp_mcp00000000000000000000000000000000"


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRuntime]:
    # A vendor call outlives the MCP wait, so the held call is one attempt, not retries that could finish in time.
    started = start_runtime(tmp_path_factory.mktemp("mcp-runtime"), VENDOR_TIMEOUT_SECONDS="40")
    yield started
    started.stop()


@pytest.fixture(scope="module")
def vendor() -> Iterator[FakeVendor]:
    with serve_vendor() as fake:
        fake.expect_bearer(TOKEN)
        yield fake


def _tenant_with_connection(runtime: LocalRuntime, vendor: FakeVendor) -> tuple[str, str]:
    tenant = f"tenant-{secrets.token_hex(4)}"
    token = runtime.token(tenant)
    made = runtime.request(
        "POST",
        "/integrations/connections",
        token=token,
        json_body={
            "providerId": "prov-github",
            "displayName": "Octo GitHub",
            "credentials": {"token": TOKEN},
            "configuration": {"baseUrl": vendor.url},
        },
    )
    assert made.status == 201, made.body
    return token, made.json["connectionId"]


def _session(runtime: LocalRuntime, headers: dict[str, str]) -> Client:
    http = httpx2.AsyncClient(headers=headers, timeout=WAIT_SECONDS)
    return Client(streamable_http_client(f"{runtime.base_url}/mcp", http_client=http))


def test_official_client_lists_and_calls_tools(runtime: LocalRuntime, vendor: FakeVendor) -> None:
    token, connection_id = _tenant_with_connection(runtime, vendor)
    release = threading.Event()

    async def scenario() -> dict[str, Any]:
        async with _session(runtime, {"Authorization": f"Bearer {token}"}) as client:
            listed = await client.list_tools()
            names = {tool.name: tool for tool in listed.tools}
            get_repo = next(name for name in names if "_getrepository_" in name)
            done = await client.call_tool(get_repo, {"owner": "octo", "repo": "hello"})
            vendor.fail_next(Behavior(404, {"message": "Not Found"}))
            failed = await client.call_tool(get_repo, {"owner": "octo", "repo": "gone"})
            invalid = await client.call_tool(get_repo, {"owner": "octo"})
            vendor.fail_next(held(release))
            pending = await client.call_tool(get_repo, {"owner": "octo", "repo": "slow"})
            release.set()
            return {
                "version": client.protocol_version,
                "tools": names,
                "name": get_repo,
                "done": done,
                "failed": failed,
                "invalid": invalid,
                "pending": pending,
            }

    seen = asyncio.run(scenario())
    assert seen["version"] == "2025-11-25"
    tool = seen["tools"][seen["name"]]
    assert len(seen["name"]) <= 64 and seen["name"].startswith("octo-github_getrepository_")
    assert tool.input_schema["type"] == "object" and "owner" in tool.input_schema["properties"]
    assert tool.description

    done = seen["done"]
    assert not done.is_error and done.structured_content["full_name"] == "octo/hello"
    run_id = done.meta["runId"]
    assert runtime.request("GET", f"/integrations/runs/{run_id}", token=token).json["status"] == "Completed"

    failed = seen["failed"]
    assert failed.is_error and failed.structured_content["error"]["code"] == "EXTERNAL_SERVICE_ERROR"
    assert failed.content[0].text.startswith("EXTERNAL_SERVICE_ERROR: ")
    invalid = seen["invalid"]
    assert invalid.is_error and invalid.structured_content["error"]["code"] == "PARAMETER_VALIDATION_ERROR"

    pending = seen["pending"].structured_content
    assert not seen["pending"].is_error and pending["status"] in ("Pending", "Running")
    assert pending["poll"] == f"/integrations/runs/{pending['runId']}"

    def completed() -> Any:
        run = runtime.request("GET", pending["poll"], token=token).json
        return run if run["status"] == "Completed" else None

    final = poll(completed, "the slow run to complete")
    assert final["connectionId"] == connection_id


def test_api_key_works_and_tenants_see_only_their_tools(runtime: LocalRuntime, vendor: FakeVendor) -> None:
    token_a, _ = _tenant_with_connection(runtime, vendor)
    token_b, _ = _tenant_with_connection(runtime, vendor)
    key = runtime.request(
        "POST", "/auth/api-keys", token=token_b, json_body={"name": "agent", "scopes": ["mcp.invoke"]}
    ).json["apiKey"]

    async def names(headers: dict[str, str]) -> list[str]:
        async with _session(runtime, headers) as client:
            return [tool.name for tool in (await client.list_tools()).tools]

    a_names = asyncio.run(names({"Authorization": f"Bearer {token_a}"}))
    b_names = asyncio.run(names({"X-API-Key": key}))
    assert a_names and b_names and not set(a_names) & set(b_names)

    async def call_foreign() -> MCPError:
        async with _session(runtime, {"X-API-Key": key}) as client:
            with pytest.raises(MCPError) as refused:
                await client.call_tool(a_names[0], {"owner": "octo", "repo": "hello"})
            return refused.value

    refused = asyncio.run(call_foreign())
    assert refused.error.code == -32602 and "Unknown tool" in refused.error.message


def test_raw_protocol_edges(runtime: LocalRuntime, tmp_path: Path) -> None:
    token = runtime.token(f"tenant-{secrets.token_hex(4)}")

    def post(body: Any, **headers: str) -> Any:
        return runtime.request("POST", "/mcp", token=token, json_body=body, headers=headers)

    init = post({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "1999-01-01"}})
    assert init.status == 200 and init.json["result"]["protocolVersion"] == "2025-11-25"
    assert "mcp-session-id" not in {k.lower() for k in init.headers}
    assert post({"jsonrpc": "2.0", "method": "notifications/initialized"}).status == 202
    assert post({"jsonrpc": "2.0", "id": "p", "method": "ping"}).json == {"jsonrpc": "2.0", "id": "p", "result": {}}
    unknown = post({"jsonrpc": "2.0", "id": 2, "method": "resources/list"})
    assert unknown.status == 200 and unknown.json["error"]["code"] == -32601
    batch = [{"jsonrpc": "2.0", "id": 3, "method": "ping"}, {"jsonrpc": "2.0", "method": "notifications/x"}]
    assert post(batch, **{"MCP-Protocol-Version": "2025-03-26"}).json == [{"jsonrpc": "2.0", "id": 3, "result": {}}]
    refused = post(batch, **{"MCP-Protocol-Version": "2025-11-25"})
    assert refused.status == 400 and refused.json["error"]["code"] == -32600
    assert post({"jsonrpc": "2.0", "id": 4, "method": "ping"}, **{"MCP-Protocol-Version": "2030-01-01"}).status == 400
    garbage = runtime.request("POST", "/mcp", token=token, headers={"Content-Type": "application/json"}, json_body=None)
    assert garbage.status == 400 and garbage.json["error"]["code"] == -32700
    assert runtime.request("GET", "/mcp", token=token).status == 405
    # What an MCP client sends to open a server event stream: 405 with Allow, not 406 (the transport's rule).
    stream = runtime.request("GET", "/mcp", token=token, headers={"Accept": "text/event-stream"})
    assert (stream.status, stream.header("Allow")) == (405, "POST")
    assert runtime.request("POST", "/mcp", json_body={"jsonrpc": "2.0", "id": 1, "method": "ping"}).status == 401
    narrow = runtime.token("t-narrow", "integration.runs.read")
    assert runtime.request("POST", "/mcp", token=narrow, json_body={"jsonrpc": "2.0", "id": 1}).status == 403
