"""Assertions on the documented error shape, shared by every API test package."""

from __future__ import annotations

import secrets
from typing import Any

from infra.local.dev_issuer import DevIssuer
from infra.local.gateway import LocalApi
from tests.support.api_client import ApiClient, Reply


def error_of(reply: Reply, status: int, code: str) -> dict[str, Any]:
    """The ``error`` object of ``reply`` after checking it has exactly the documented shape."""
    assert reply.status == status, reply.body
    body = reply.json
    assert set(body) == {"error", "traceId"}, body
    error: dict[str, Any] = body["error"]
    assert set(error) == {"code", "message", "details"}, body
    assert error["code"] == code, body
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], list)
    for detail in error["details"]:
        assert set(detail) == {"field", "message"}, detail
    assert body["traceId"].strip() and body["traceId"] == reply.header("X-Trace-Id")
    return error


def fields_of(error: dict[str, Any]) -> set[str]:
    return {detail["field"] for detail in error["details"]}


def client_for(local_api: LocalApi, issuer: DevIssuer, tenant: str | None = None) -> ApiClient:
    """A client for another (by default fresh) tenant, to prove isolation."""
    return ApiClient(local_api, issuer.token(tenant or f"tenant-{secrets.token_hex(4)}"))
