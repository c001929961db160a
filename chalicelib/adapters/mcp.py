"""MCP tool servers as a provider: a connection's ``configuration.baseUrl`` is the server's endpoint.

The tools are not known until the server is asked: the connection ``test``, ``health/check`` and
the scheduled health sweep call ``tools/list`` and store the catalogue on the connection
(``discoveredTools``); a run of a tool sends ``tools/call``. Every exchange goes through the
platform's one HTTP transport, so the outbound URL policy (SSRF checks, pinned address) and the
credential's auth mode apply as for any vendor. Each run starts its own short session
(``initialize``, ``notifications/initialized``, the call), carrying ``Mcp-Session-Id`` when a
stateful server issues one; answers may be JSON or a server-sent event stream.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ConfigDict

from chalicelib.adapters.auth import Credential
from chalicelib.adapters.base import Adapter, ExecutionContext, HealthReport, Operation, Parameters
from chalicelib.adapters.errors import VendorBadResponse, VendorError, VendorRejected
from chalicelib.adapters.http import VendorRequest, VendorResponse
from chalicelib.adapters.models import OperationSpec
from chalicelib.core import jsontext
from chalicelib.core.errors import FieldError, OperationNotFound, ParameterValidationFailed

PROTOCOL_VERSION = "2025-11-25"
CLIENT_INFO = {"name": "integration-platform", "version": "1"}
MAX_TOOLS = 200
MAX_LIST_PAGES = 10
MAX_CATALOG_BYTES = 200 * 1024  # stored on the connection item, whose limit is 400 KB


class ToolArguments(Parameters):
    """Whatever object the tool's ``inputSchema`` describes; the server validates it in full."""

    model_config = ConfigDict(extra="allow")


@dataclass(frozen=True)
class ToolOperation(Operation[ToolArguments]):
    input_schema: dict[str, Any] = field(default_factory=dict)

    def spec(self) -> OperationSpec:
        return OperationSpec(
            id=self.id,
            name=self.name,
            description=self.description,
            parameters=self.input_schema,
            result_schema=self.result_schema,
            idempotent=self.idempotent,
        )

    def validate(self, parameters: Mapping[str, Any]) -> ToolArguments:
        """The checks that need no schema engine: present required properties, nothing undeclared when closed."""
        properties = self.input_schema.get("properties")
        declared = set(properties) if isinstance(properties, dict) else set()
        missing = [name for name in self.input_schema.get("required", []) if name not in parameters]
        extra = (
            []
            if self.input_schema.get("additionalProperties", True) is not False
            else sorted(set(parameters) - declared)
        )
        details = [FieldError(f"parameters.{n}", "Field required") for n in missing]
        details += [FieldError(f"parameters.{n}", "Extra inputs are not permitted") for n in extra]
        if details:
            raise ParameterValidationFailed(f"The parameters of {self.id} are not valid.", details)
        return ToolArguments.model_validate(dict(parameters))


def _call_request(arguments: ToolArguments, context: ExecutionContext) -> VendorRequest:
    raise NotImplementedError  # McpAdapter.execute speaks the protocol itself


def _tool_operation(tool: Mapping[str, Any]) -> ToolOperation:
    name = str(tool["name"])
    schema = tool.get("inputSchema")
    output = tool.get("outputSchema")
    annotations = tool.get("annotations") if isinstance(tool.get("annotations"), dict) else {}
    return ToolOperation(
        name,
        str(tool.get("title") or name),
        str(tool.get("description") or ""),
        ToolArguments,
        output if isinstance(output, dict) else {},
        _call_request,
        idempotent=bool(annotations.get("idempotentHint")) if isinstance(annotations, dict) else False,
        input_schema=schema if isinstance(schema, dict) else {"type": "object"},
    )


def _messages(response: VendorResponse) -> list[Any]:
    """The JSON-RPC messages of a JSON body or of an SSE stream's ``data`` fields."""
    content_type = (response.header("content-type") or "").lower()
    if not content_type.startswith("text/event-stream"):
        document = response.json()
        return document if isinstance(document, list) else [document]
    found: list[Any] = []
    text = response.body.decode("utf-8", errors="replace").replace("\r\n", "\n")
    for event in text.split("\n\n"):
        data = "\n".join(line[5:].removeprefix(" ") for line in event.split("\n") if line.startswith("data:"))
        if data.strip():
            try:
                found.append(jsontext.read(data))
            except ValueError as exc:
                raise VendorBadResponse("The MCP server sent an event that is not JSON.") from exc
    return found


@dataclass
class _Session:
    adapter: McpAdapter
    credential: Credential
    context: ExecutionContext
    session_id: str | None = None
    version: str | None = None
    next_id: int = 0

    def _post(self, message: dict[str, Any]) -> VendorResponse:
        headers = {"Accept": "application/json, text/event-stream"}
        if self.session_id:
            headers["Mcp-Session-Id"] = self.session_id
        if self.version:
            headers["MCP-Protocol-Version"] = self.version
        return self.adapter.call(
            VendorRequest("POST", "", headers=headers, json_body=message), self.credential, self.context
        )

    def request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        self.next_id += 1
        response = self._post({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        self.session_id = response.header("mcp-session-id") or self.session_id
        for message in _messages(response):
            if isinstance(message, dict) and message.get("id") == self.next_id:
                error = message.get("error")
                if isinstance(error, dict):
                    raise VendorRejected(
                        f"The MCP server refused {method}: {error.get('message')} ({error.get('code')})."
                    )
                result = message.get("result")
                if not isinstance(result, dict):
                    raise VendorBadResponse(f"The MCP server's answer to {method} has no result object.")
                return result
        raise VendorBadResponse(f"The MCP server did not answer {method}.")

    def open(self) -> None:
        params = {"protocolVersion": PROTOCOL_VERSION, "capabilities": {}, "clientInfo": CLIENT_INFO}
        result = self.request("initialize", params)
        version = result.get("protocolVersion")
        self.version = version if isinstance(version, str) else PROTOCOL_VERSION
        self._post({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def list_tools(self) -> list[dict[str, Any]]:
        tools: list[dict[str, Any]] = []
        cursor: Any = None
        for _ in range(MAX_LIST_PAGES):
            result = self.request("tools/list", {"cursor": cursor} if cursor else {})
            tools += [t for t in result.get("tools", []) if isinstance(t, dict) and isinstance(t.get("name"), str)]
            cursor = result.get("nextCursor")
            if not cursor or len(tools) >= MAX_TOOLS:
                break
        kept: list[dict[str, Any]] = []
        size = 0
        for tool in tools[:MAX_TOOLS]:
            size += len(json.dumps(tool))
            if size > MAX_CATALOG_BYTES:
                break
            kept.append(tool)
        return kept


class McpAdapter(Adapter):
    """One adapter per connection catalogue: ``with_tools`` binds what the last check discovered."""

    provider_key = "mcp"

    def with_tools(self, tools: list[dict[str, Any]] | None) -> Adapter:
        return McpAdapter(*(_tool_operation(tool) for tool in tools or []))

    def operation(self, operation_id: str) -> Operation[Any]:
        if not self._operations:
            raise OperationNotFound(
                f"Tool '{operation_id}' is not known: test the connection (or wait for its health check) "
                "to discover the MCP server's tools."
            )
        return super().operation(operation_id)

    def execute(
        self, operation: str, parameters: Mapping[str, Any], credential: Credential, context: ExecutionContext
    ) -> Any:
        """``tools/call``; a tool answering ``isError`` fails the run with the tool's own words."""
        arguments = self.operation(operation).validate(parameters).model_dump(mode="json", by_alias=True)
        session = _Session(self, credential, context)
        session.open()
        result = session.request("tools/call", {"name": operation, "arguments": arguments})
        if result.get("isError"):
            texts = [str(c.get("text")) for c in result.get("content", []) if isinstance(c, dict) and c.get("text")]
            raise VendorRejected(f"The tool {operation} failed: {' '.join(texts) or 'no message'}")
        return {key: result[key] for key in ("content", "structuredContent") if key in result}

    def health_check(self, credential: Credential, context: ExecutionContext) -> HealthReport:
        session = _Session(self, credential, context)
        try:
            session.open()
            tools = session.list_tools()
        except VendorError as exc:
            return HealthReport(False, exc.message, exc.vendor_status)
        return HealthReport(True, f"The MCP server lists {len(tools)} tools.", 200, tools=tools)


ADAPTER = McpAdapter()
