"""``POST /mcp`` in process: what a ``tools/call`` answers when following its run goes wrong."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chalicelib.core.config import get_settings
from chalicelib.mcp import server
from tests.support.api_client import ApiClient
from tests.support.aws_calls import refusing
from tests.support.fake_vendor import FakeVendor, serve_vendor
from tests.support.run_driver import connect, settings

TOKEN = "vendor-token-1"
READS = frozenset({"GetItem"})
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-11-25"}


@pytest.fixture
def vendor() -> Iterator[FakeVendor]:
    with serve_vendor() as fake:
        fake.expect_bearer(TOKEN)
        yield fake


def test_a_poll_that_fails_after_the_run_started_still_answers_with_the_run_id(
    client: ApiClient, tenant: str, vendor: FakeVendor
) -> None:
    connect(client, vendor.url, provider_id="prov-github")
    [name] = [tool.name for tool in server.tools(tenant) if tool.operation.id == "GetRepository"]
    arguments = {"owner": "octo", "repo": "hello"}
    message = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": name, "arguments": arguments}}
    reads = refusing(get_settings().table_name("runs"), operations=READS, code="ProvisionedThroughputExceededException")
    with settings(MCP_CALL_WAIT_SECONDS="5"), reads as refused:
        reply = client.post("/mcp", message, headers=MCP_HEADERS)
    assert reply.status == 200, reply.body
    result = reply.json["result"]
    assert result["isError"] is False and result["structuredContent"]["status"] == "Pending"
    run_id = result["structuredContent"]["runId"]
    assert refused  # the run was started (its PutItem went through), then reading it failed
    assert result["structuredContent"]["poll"] == f"/integrations/runs/{run_id}"
    assert run_id in result["content"][0]["text"]
    assert client.get(f"/integrations/runs/{run_id}").json["status"] == "Pending"  # the client can follow it
