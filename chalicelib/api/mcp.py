"""``POST /mcp``: the Model Context Protocol over stateless streamable HTTP (docs/mcp.md).

Authentication, the rate limits and the ``mcp.invoke`` scope come from ``endpoint`` like any
route; the body is JSON-RPC, answered as JSON-RPC. ``GET`` (a server-sent event stream) and
``DELETE`` (ending a session) are not offered: there is no session, so they answer 405.
"""

from __future__ import annotations

import json

from chalice.app import Blueprint, Response

from chalicelib.api.routing import Call, endpoint

mcp = Blueprint(__name__)


@endpoint(
    mcp,
    "/mcp",
    "POST",
    summary="Model Context Protocol (JSON-RPC: initialize, ping, tools/list, tools/call); a tool call is a run",
    tag="MCP",
    scope="mcp.invoke",
    raw_body=True,
    errors=(400,),
)
def mcp_endpoint(call: Call) -> Response:
    from chalicelib.mcp import protocol, server

    answer = protocol.handle(call.raw_body, call.headers.get("mcp-protocol-version"), server.methods(call.tenant_id))
    if answer.body is None:
        return Response(body="", status_code=answer.status)
    body = json.dumps(answer.body, separators=(",", ":"), ensure_ascii=False)
    return Response(body=body, status_code=answer.status, headers={"Content-Type": "application/json"})
