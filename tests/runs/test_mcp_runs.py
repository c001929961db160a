"""A connection of the ``mcp`` provider through the API and the runs worker, against an SDK-built MCP server."""

from __future__ import annotations

from typing import Any

from tests.support.api_client import ApiClient
from tests.support.mcp_server import serve_mcp
from tests.support.run_driver import connect, deliver, runs_queue, start

TOKEN = "mcp-run-token"


def _operations(client: ApiClient, connection_id: str) -> list[str]:
    return [op["id"] for op in client.get(f"/integrations/connections/{connection_id}/operations").json["items"]]


def test_tools_are_unknown_until_tested_then_runs_call_them(client: ApiClient, tenant: str, handler: Any) -> None:
    with serve_mcp(json_response=False, token=TOKEN) as url:
        connection_id = connect(client, url, provider_id="prov-mcp", credentials={"token": TOKEN})
        assert _operations(client, connection_id) == []
        early = client.post(f"/integrations/connections/{connection_id}/operations/add", {"parameters": {}})
        assert early.status == 404 and early.json["error"]["code"] == "OPERATION_NOT_FOUND"
        tested = client.post(f"/integrations/connections/{connection_id}/test", {})
        assert tested.json["connectionTest"]["success"] is True, tested.body
        assert sorted(_operations(client, connection_id)) == ["add", "explode"]
        assert "discoveredTools" not in client.get(f"/integrations/connections/{connection_id}").json

        missing = client.post(f"/integrations/connections/{connection_id}/operations/add", {"parameters": {"a": 1}})
        assert missing.status == 422 and missing.json["error"]["code"] == "PARAMETER_VALIDATION_ERROR"
        added = start(client, connection_id, "add", {"a": 40, "b": 2})
        exploded = start(client, connection_id, "explode", {"reason": "on purpose"})
        _, failed = deliver(handler, runs_queue(), tenant)
        assert failed == set()
    done = client.get(f"/integrations/runs/{added['runId']}").json
    assert done["status"] == "Completed" and done["result"]["structuredContent"] == {"result": 42}
    broken = client.get(f"/integrations/runs/{exploded['runId']}").json
    assert broken["status"] == "Failed" and broken["error"]["code"] == "EXTERNAL_SERVICE_ERROR"
    assert "exploded: on purpose" in broken["error"]["message"]


def test_health_check_refreshes_the_catalogue(client: ApiClient, tenant: str) -> None:
    with serve_mcp(json_response=True, token=TOKEN) as url:
        connection_id = connect(client, url, provider_id="prov-mcp", credentials={"token": TOKEN})
        checked = client.post(f"/integrations/connections/{connection_id}/health/check", {})
        assert checked.json["status"] == "Healthy", checked.body
        assert sorted(_operations(client, connection_id)) == ["add", "explode"]
