"""What ``POST /mcp`` serves: the tenant's active connections' operations as MCP tools.

A tool name is ``<connection slug>_<operation slug>_<6 hex of the connection id>``, at most
64 characters of ``[A-Za-z0-9_-]`` (what MCP clients accept). The hash keeps two connections
with the same display name apart and keeps a name stable while the connection lives (a rename
of the connection renames its tools). ``tools/call`` starts an ordinary run, so the call is
validated, audited, retried and listed like any other, then waits up to
``MCP_CALL_WAIT_SECONDS`` for it (docs/mcp.md). Once the run is started, every answer names
it: one still going, or one whose waiting failed, says where to poll.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.adapters.models import OperationSpec
from chalicelib.connections import service as connections
from chalicelib.connections.models import Connection, ConnectionListQuery, ConnectionStatus
from chalicelib.core.config import get_settings
from chalicelib.core.errors import ApiError, CredentialUnavailable, OperationNotFound, ParameterValidationFailed
from chalicelib.core.logging import logger
from chalicelib.mcp import protocol
from chalicelib.runs import service as runs
from chalicelib.runs.models import FINAL_STATUSES, Run, RunStatus

SERVER_INFO = {"name": "integration-platform", "version": "1"}
MAX_NAME = 64
HASH_CHARS = 6
MAX_OPERATION_SLUG = 30
POLL_SECONDS = 0.25
INSTRUCTIONS = (
    "Each tool is one operation of one of your connections. A call starts a run; if the run is still "
    "going when the call returns, poll GET /integrations/runs/{runId} with the same credentials."
)


@dataclass(frozen=True)
class Tool:
    name: str
    connection: Connection
    operation: OperationSpec

    def listing(self) -> dict[str, Any]:
        schema = dict(self.operation.parameters)
        schema.setdefault("type", "object")
        schema.pop("title", None)
        description = f"{self.operation.description} (connection '{self.connection.display_name}')"
        return {
            "name": self.name,
            "title": f"{self.connection.display_name}: {self.operation.name}",
            "description": description,
            "inputSchema": schema,
            "annotations": {"idempotentHint": self.operation.idempotent},
        }


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "x"


def tool_name(connection: Connection, operation_id: str) -> str:
    """Stable and length-safe: the suffix identifies the connection, the slugs are for people."""
    suffix = hashlib.sha256(connection.connection_id.encode()).hexdigest()[:HASH_CHARS]
    operation = _slug(operation_id)[:MAX_OPERATION_SLUG].strip("-")
    room = MAX_NAME - len(operation) - len(suffix) - 2
    return f"{_slug(connection.display_name)[:room].strip('-')}_{operation}_{suffix}"


def _active_connections(tenant_id: str) -> Iterator[Connection]:
    cursor: str | None = None
    while True:
        query = ConnectionListQuery(limit=100, cursor=cursor, status=ConnectionStatus.ACTIVE)
        items, cursor = connections.list_page(tenant_id, query)
        yield from items
        if cursor is None:
            return


def tools(tenant_id: str) -> list[Tool]:
    found: list[Tool] = []
    for connection in _active_connections(tenant_id):
        try:
            catalog = runs.catalog(tenant_id, connection.connection_id)
        except ApiError:
            continue  # its provider went away: nothing to call
        found += [Tool(tool_name(connection, op.id), connection, op) for op in catalog.items]
    return found


def _text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _error_result(run_id: str | None, code: str, message: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    structured: dict[str, Any] = {"error": {"code": code, "message": message, **(extra or {})}}
    if run_id is not None:
        structured |= {"runId": run_id, "status": RunStatus.FAILED.value}
    return {
        "content": [{"type": "text", "text": f"{code}: {message}"}],
        "structuredContent": structured,
        "isError": True,
    }


def answer(run: Run) -> dict[str, Any]:
    """The ``tools/call`` result for a run as it stands: its result, its error, or where to poll."""
    if run.status == RunStatus.COMPLETED:
        structured = run.result if isinstance(run.result, dict) else {"result": run.result}
        meta = {"runId": run.run_id, "resultTruncated": bool(run.result_truncated)}
        return {
            "content": [{"type": "text", "text": _text(run.result)}],
            "structuredContent": structured,
            "_meta": meta,
        }
    if run.status == RunStatus.FAILED and run.error is not None:
        extra = {"status": run.error.status, "vendorStatus": run.error.vendor_status}
        return _error_result(run.run_id, run.error.code, run.error.message, {k: v for k, v in extra.items() if v})
    if run.status == RunStatus.CANCELLED:
        return _error_result(run.run_id, "RUN_CANCELLED", f"Run '{run.run_id}' was cancelled.")
    poll = f"/integrations/runs/{run.run_id}"
    text = f"Run {run.run_id} is still {run.status.value}. Poll GET {poll} for its result."
    structured = {"runId": run.run_id, "status": run.status.value, "poll": poll}
    return {"content": [{"type": "text", "text": text}], "structuredContent": structured, "isError": False}


def call(tenant_id: str, name: str, arguments: Mapping[str, Any]) -> dict[str, Any]:
    tool = next((t for t in tools(tenant_id) if t.name == name), None)
    if tool is None:
        raise protocol.RpcError(protocol.INVALID_PARAMS, f"Unknown tool '{name}'.")
    try:
        run, _ = runs.start(tenant_id, tool.connection.connection_id, tool.operation.id, dict(arguments))
    except ParameterValidationFailed as exc:
        details = [{"field": d.field, "message": d.message} for d in exc.details]
        return _error_result(None, exc.code, exc.message, {"details": details})
    except (CredentialUnavailable, OperationNotFound) as exc:
        return _error_result(None, exc.code, exc.message)
    deadline = time.monotonic() + get_settings().mcp_call_wait_seconds
    try:
        while run.status not in FINAL_STATUSES and time.monotonic() < deadline:
            time.sleep(min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))
            run = runs.get(tenant_id, run.run_id)
    except Exception:
        # The run is started and goes on without us: whatever stopped the waiting (a throttled read, AWS
        # down), the answer must still carry the run id, or the client could neither follow nor find it.
        logger.exception("following an MCP tool call's run failed", extra={"runId": run.run_id})
    return answer(run)


def methods(tenant_id: str) -> dict[str, protocol.Method]:
    """The JSON-RPC methods one authenticated tenant may call."""

    def initialize(params: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "protocolVersion": protocol.negotiate(params.get("protocolVersion")),
            "capabilities": {"tools": {"listChanged": False}},
            "serverInfo": SERVER_INFO,
            "instructions": INSTRUCTIONS,
        }

    def list_tools(params: Mapping[str, Any]) -> dict[str, Any]:
        return {"tools": [tool.listing() for tool in tools(tenant_id)]}

    def call_tool(params: Mapping[str, Any]) -> dict[str, Any]:
        name, arguments = params.get("name"), params.get("arguments") or {}
        if not isinstance(name, str) or not isinstance(arguments, dict):
            raise protocol.RpcError(protocol.INVALID_PARAMS, "tools/call needs a name and object arguments.")
        return call(tenant_id, name, arguments)

    return {"initialize": initialize, "ping": lambda _: {}, "tools/list": list_tools, "tools/call": call_tool}
