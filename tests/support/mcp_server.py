"""A small MCP tool server built with the official SDK (``MCPServer``, streamable HTTP, stateless) on 127.0.0.1.

``json_response`` picks plain JSON answers or server-sent event streams, as real servers do either.
A bearer token is required when ``token`` is given (checked in front of the SDK's app).
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from tests.e2e.conftest import free_port, port_open
from tests.support.waiting import poll

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def build() -> MCPServer:
    server = MCPServer("fixture-tools")

    @server.tool(description="Adds two integers.")
    def add(a: int, b: int) -> int:
        return a + b

    @server.tool(description="Always fails with a message.")
    def explode(reason: str) -> str:
        raise ToolError(f"exploded: {reason}")

    return server


def _guard(app: Any, token: str | None) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if token is not None and scope["type"] == "http":
            headers = dict(scope.get("headers", []))
            if headers.get(b"authorization") != f"Bearer {token}".encode():
                await send(
                    {"type": "http.response.start", "status": 401, "headers": [(b"content-type", b"text/plain")]}
                )
                await send({"type": "http.response.body", "body": b"unauthorized"})
                return
        await app(scope, receive, send)

    return guarded


@contextmanager
def serve_mcp(*, json_response: bool, token: str | None = None) -> Iterator[str]:
    """The server's endpoint URL while it runs."""
    app = build().streamable_http_app(json_response=json_response, stateless_http=True)
    port = free_port()
    config = uvicorn.Config(_guard(app, token), host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        poll(lambda: port_open(port), f"the MCP test server to listen on {port}", interval=0.05)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        server.should_exit = True
        poll(lambda: not thread.is_alive(), "the MCP test server to stop", interval=0.05)
