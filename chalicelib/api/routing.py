"""Declaring an endpoint once: the Chalice route, its auth, its models and its OpenAPI entry.

Handlers stay thin: ``endpoint`` authenticates, checks the scope, parses the
body and query into models, and renders what the handler returns, so a handler
only calls the domain service. The same declarations feed ``/openapi.json``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from chalice.app import Blueprint, Response
from pydantic import BaseModel

from chalicelib.api.rendering import json_response
from chalicelib.api.requests import check_size, parse_json_body, parse_query
from chalicelib.auth.principal import Principal
from chalicelib.auth.tokens import principal_from_bearer
from chalicelib.core.errors import AuthenticationFailed


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    tag: str
    scope: str | None
    request_model: type[BaseModel] | None
    response_model: type[BaseModel] | None
    query_model: type[BaseModel] | None
    status: int
    errors: tuple[int, ...]
    raw_body: bool
    operation_id: str


OPERATIONS: list[Operation] = []


@dataclass
class Reply:
    """What a handler returns when the status or headers differ from the declaration."""

    payload: BaseModel | dict[str, Any]
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Call:
    """Everything a handler may read about the request, already validated."""

    principal: Principal
    path: dict[str, str]
    body: Any
    query: Any
    headers: Mapping[str, str]
    raw_body: bytes

    @property
    def tenant_id(self) -> str:
        return self.principal.tenant_id


ANONYMOUS = Principal(tenant_id="", subject="anonymous", scopes=frozenset())
Handler = Callable[[Call], "BaseModel | dict[str, Any] | Reply | Response"]


def endpoint(
    blueprint: Blueprint,
    path: str,
    method: str,
    *,
    summary: str,
    tag: str,
    scope: str | None,
    request: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    status: int = 200,
    errors: tuple[int, ...] = (),
    raw_body: bool = False,
) -> Callable[[Handler], Handler]:
    """Register ``handler`` for ``method path``; ``scope=None`` makes it public."""

    def decorator(handler: Handler) -> Handler:
        OPERATIONS.append(
            Operation(
                method, path, summary, tag, scope, request, response, query, status, errors, raw_body, handler.__name__
            )
        )

        def view(**path_params: str) -> Response:
            http = blueprint.current_request
            headers: Mapping[str, str] = http.headers
            raw = http.raw_body or b""
            body_bytes = raw.encode() if isinstance(raw, str) else raw
            principal = ANONYMOUS
            if scope is not None:
                principal = authenticate(headers)
                principal.require(scope)
            check_size(body_bytes)
            call = Call(
                principal=principal,
                path=path_params,
                body=parse_json_body(headers, body_bytes, request) if request else None,
                query=parse_query(http.query_params, query) if query else None,
                headers=headers,
                raw_body=body_bytes,
            )
            result = handler(call)
            if isinstance(result, Response):
                return result
            if isinstance(result, Reply):
                return json_response(result.payload, result.status or status, result.headers)
            return json_response(result, status)

        view.__name__ = handler.__name__
        blueprint.route(path, methods=[method], content_types=["*/*"])(view)
        return handler

    return decorator


def authenticate(headers: Mapping[str, str]) -> Principal:
    authorization = headers.get("authorization")
    if authorization is None:
        raise AuthenticationFailed("A bearer token is required.")
    return principal_from_bearer(authorization)
