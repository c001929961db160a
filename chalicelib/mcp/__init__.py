"""The Model Context Protocol both ways: ``POST /mcp`` (server) and the ``mcp`` provider (client).

Hand-written rather than the ``mcp`` SDK: the SDK pulls starlette, httpx and an ASGI
stack that would break the deployment zip and cold start budgets (docs/mcp.md).
"""
