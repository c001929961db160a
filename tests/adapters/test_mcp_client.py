"""The ``mcp`` provider against a real MCP server made with the official SDK (JSON and SSE answers)."""

from __future__ import annotations

import pytest

from chalicelib.adapters.auth import Credential
from chalicelib.adapters.base import ExecutionContext
from chalicelib.adapters.errors import ConfigurationError, VendorRejected
from chalicelib.adapters.mcp import ADAPTER
from chalicelib.core.errors import OperationNotFound, ParameterValidationFailed
from chalicelib.providers.models import AuthModel
from tests.support.mcp_server import serve_mcp

TOKEN = "mcp-secret-token"
CREDENTIAL = Credential(AuthModel.BEARER_TOKEN, {"token": TOKEN})


def _context(url: str) -> ExecutionContext:
    return ExecutionContext(base_url="https://example.invalid", configuration={"baseUrl": url}, run_id="run-1")


@pytest.mark.parametrize("json_response", [True, False], ids=["json", "sse"])
def test_tools_are_discovered_then_called(json_response: bool) -> None:
    with serve_mcp(json_response=json_response, token=TOKEN) as url:
        report = ADAPTER.health_check(CREDENTIAL, _context(url))
        assert report.healthy, report.message
        assert report.tools is not None and {t["name"] for t in report.tools} == {"add", "explode"}
        bound = ADAPTER.with_tools(report.tools)
        add = next(op for op in bound.operations() if op.id == "add")
        assert add.description == "Adds two integers." and set(add.parameters["required"]) == {"a", "b"}
        result = bound.execute("add", {"a": 2, "b": 3}, CREDENTIAL, _context(url))
        assert result["structuredContent"] == {"result": 5}
        with pytest.raises(VendorRejected, match="exploded: boom"):
            bound.execute("explode", {"reason": "boom"}, CREDENTIAL, _context(url))


def test_missing_argument_and_unknown_tool_are_refused_before_calling() -> None:
    bound = ADAPTER.with_tools([{"name": "add", "inputSchema": {"type": "object", "required": ["a", "b"]}}])
    with pytest.raises(ParameterValidationFailed) as refused:
        bound.operation("add").validate({"a": 1})
    assert [d.field for d in refused.value.details] == ["parameters.b"]
    with pytest.raises(OperationNotFound):
        bound.operation("subtract")
    with pytest.raises(OperationNotFound, match="test the connection"):
        ADAPTER.operation("add")


def test_wrong_token_is_an_unhealthy_401() -> None:
    with serve_mcp(json_response=True, token=TOKEN) as url:
        report = ADAPTER.health_check(Credential(AuthModel.BEARER_TOKEN, {"token": "wrong"}), _context(url))
    assert not report.healthy and report.vendor_status == 401 and report.tools is None


def test_internal_addresses_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLOW_INSECURE_URLS", "false")
    from chalicelib.core.config import get_settings

    get_settings.cache_clear()
    try:
        bound = ADAPTER.with_tools([{"name": "add", "inputSchema": {"type": "object"}}])
        with pytest.raises(ConfigurationError):
            bound.execute("add", {}, CREDENTIAL, _context("http://169.254.169.254/mcp"))
    finally:
        get_settings.cache_clear()
