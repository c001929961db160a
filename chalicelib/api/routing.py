"""Declaring an endpoint once: the Chalice route, its auth, its models and its OpenAPI entry.

Handlers stay thin: ``endpoint`` checks ``Accept`` against the media types the
route produces (JSON unless declared otherwise), authenticates (bearer token or ``X-API-Key``),
counts the request against the rate limits, checks the scope, parses the body
and query into models, honours ``Idempotency-Key`` on creating routes, and
renders what the handler returns, so a handler only calls the domain service.
Every response to an authenticated request, errors included, carries the
``X-RateLimit-*`` headers. The same declarations feed ``/openapi.json``.

Registering the routes imports no domain module, so the API function's cold
start pays only for the request pipeline (docs/performance.md "Cold start"):
a declaration names its models by dotted path (``"chalicelib.runs.models.Run"``),
imported when a request first needs one (or ``/openapi.json`` lists them), and a
handler imports its domain services inside its body.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from chalice.app import Blueprint, Response
from pydantic import BaseModel

from chalicelib.api.deprecation import Deprecation, used_in
from chalicelib.api.rendering import REPLAYED_HEADER, json_response
from chalicelib.api.requests import JSON_MEDIA, check_accept, check_size, parse_json_body, parse_query
from chalicelib.auth.principal import Principal
from chalicelib.auth.tokens import principal_from_bearer
from chalicelib.core.errors import ApiError, AuthenticationFailed, AuthorizationDenied, unexpected
from chalicelib.core.ids import derived_id
from chalicelib.core.logging import logger
from chalicelib.ratelimit import limiter

ModelPath = str
"""A pydantic model by its dotted path, ``"<module>.<class>"``, imported on first use (:func:`model`)."""


@cache
def model(path: ModelPath) -> type[BaseModel]:
    """The model ``path`` names; a typo fails the first request or ``/openapi.json`` (tests/api/test_routing.py)."""
    module, _, name = path.rpartition(".")
    found = getattr(importlib.import_module(module), name, None)
    if not (isinstance(found, type) and issubclass(found, BaseModel)):
        raise TypeError(f"{path} is not a pydantic model")
    return found


def _model(path: ModelPath | None) -> type[BaseModel] | None:
    return None if path is None else model(path)


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    tag: str
    scope: str | None
    request: ModelPath | None
    response: ModelPath | None
    query: ModelPath | None
    status: int
    errors: tuple[int, ...]
    raw_body: bool
    operation_id: str
    idempotent: bool = False
    portal: bool = False
    deprecation: Deprecation | None = None
    produces: tuple[str, ...] = JSON_MEDIA

    @property
    def vendor_facing(self) -> bool:
        """Public and authenticated by the sender's signature over the raw body: what vendors call.

        A deployed stage serves these on its ingest HTTP API and nowhere else (docs/deploy.md "Two fronts");
        ``tests/infra/test_template.py`` holds the template's routes to exactly these.
        """
        return self.scope is None and self.raw_body

    @property
    def request_model(self) -> type[BaseModel] | None:
        return _model(self.request)

    @property
    def response_model(self) -> type[BaseModel] | None:
        return _model(self.response)

    @property
    def query_model(self) -> type[BaseModel] | None:
        return _model(self.query)


OPERATIONS: list[Operation] = []


@dataclass
class Reply:
    """What a handler returns when the status or headers differ from the declaration."""

    payload: BaseModel | dict[str, Any]
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    replayed: bool = False  # a keyed create found what its first attempt made (``Call.keyed_id``)


@dataclass
class Call:
    """Everything a handler may read about the request, already validated."""

    principal: Principal
    path: dict[str, str]
    body: Any
    query: Any
    headers: Mapping[str, str]
    raw_body: bytes
    keyed_on: tuple[str, ...] = ()  # method, route and Idempotency-Key of a keyed create

    @property
    def tenant_id(self) -> str:
        return self.principal.tenant_id

    def keyed_id(self, prefix: str) -> str | None:
        """The id a keyed create gives what it makes (``None`` without an Idempotency-Key).

        It is fixed by the tenant, the route and the key, and the create writes it conditionally, so a repeat
        whose first answer was never recorded finds what the first attempt made instead of making a second
        (chalicelib/api/idempotency.py).
        """
        return derived_id(prefix, self.tenant_id, *self.keyed_on) if self.keyed_on else None


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
    request: ModelPath | None = None,
    response: ModelPath | None = None,
    query: ModelPath | None = None,
    status: int = 200,
    errors: tuple[int, ...] = (),
    raw_body: bool = False,
    idempotent: bool = False,
    deprecation: Deprecation | None = None,
    portal: bool = False,
    produces: tuple[str, ...] = JSON_MEDIA,
) -> Callable[[Handler], Handler]:
    """Register ``handler`` for ``method path``; ``scope=None`` makes it public.

    ``idempotent=True`` (creating POSTs) replays the first response to a repeated ``Idempotency-Key``;
    ``deprecation`` adds ``Deprecation``/``Sunset``/``Link`` to every response (chalicelib/api/deprecation.py).
    ``portal=True`` lets a subscriber-portal token reach it (the handler checks the subscription allow-list);
    every other operation answers such a token 403. ``request``, ``response`` and ``query`` name their models
    by dotted path (:data:`ModelPath`), imported on first use.
    ``produces`` names the media types the handler answers with: ``Accept`` must admit one (else 406).
    """

    def decorator(handler: Handler) -> Handler:
        OPERATIONS.append(
            Operation(
                method,
                path,
                summary,
                tag,
                scope,
                request,
                response,
                query,
                status,
                errors,
                raw_body,
                handler.__name__,
                idempotent,
                deprecation=deprecation,
                portal=portal,
                produces=produces,
            )
        )

        def view(**path_params: str) -> Response:
            http = blueprint.current_request
            headers: Mapping[str, str] = http.headers
            raw = http.raw_body or b""
            body_bytes = raw.encode() if isinstance(raw, str) else raw
            check_accept(headers.get("accept"), produces)
            principal = ANONYMOUS
            quota: limiter.Quota | None = None
            if scope is not None:
                principal = authenticate(headers)
                quota = limiter.for_request(principal.tenant_id, principal.api_key_id)
            extra = deprecation.headers() if deprecation is not None else {}
            try:
                response = _serve(principal, path_params, headers, body_bytes, http.query_params)
            except ApiError as error:
                error.headers.update(extra | (quota.headers() if quota is not None else {}))
                raise
            except Exception as exc:  # Chalice would answer it 500 itself: a transient AWS failure is a 503
                logger.exception("unhandled error", extra={"path": path, "method": method})
                unexpected_error = unexpected(exc)
                unexpected_error.headers.update(extra | (quota.headers() if quota is not None else {}))
                raise unexpected_error from exc
            finally:
                from chalicelib.stats.record import flush_due  # on the first request: routes register without it

                flush_due()  # the counts this container held for a while, once their interval passed
            response.headers.update(extra | (quota.headers() if quota is not None else {}))
            return response

        def _serve(
            principal: Principal,
            path_params: dict[str, str],
            headers: Mapping[str, str],
            body_bytes: bytes,
            query_params: Mapping[str, str] | None,
        ) -> Response:
            if scope is not None:
                if principal.is_portal and not portal:
                    raise AuthorizationDenied("A portal token reaches only the subscriber portal's operations.")
                principal.require(scope)
            check_size(body_bytes)
            key = headers.get("idempotency-key") if idempotent else None
            route = f"{path} {sorted(path_params.items())}"
            call = Call(
                principal=principal,
                path=path_params,
                body=parse_json_body(headers, body_bytes, model(request)) if request else None,
                query=parse_query(query_params, model(query)) if query else None,
                headers=headers,
                raw_body=body_bytes,
                keyed_on=(method, route, key) if key is not None else (),
            )

            field_deprecation = used_in(call.body)

            def produce() -> Response:
                response = _render(handler(call), status)
                if field_deprecation is not None:
                    response.headers.update(field_deprecation.headers())
                return response

            if key is None:
                return produce()
            from chalicelib.api import idempotency

            return idempotency.once(
                principal.tenant_id, method, route, key, body_bytes, produce, blueprint.lambda_context
            )

        view.__name__ = handler.__name__
        blueprint.route(path, methods=[method], content_types=["*/*"])(view)
        return handler

    return decorator


def _render(result: BaseModel | dict[str, Any] | Reply | Response, status: int) -> Response:
    if isinstance(result, Response):
        return result
    if isinstance(result, Reply):
        replayed = {REPLAYED_HEADER: "true"} if result.replayed else {}
        return json_response(result.payload, result.status or status, result.headers | replayed)
    return json_response(result, status)


def authenticate(headers: Mapping[str, str]) -> Principal:
    """A bearer token or an API key, never both: the two must not disagree about who is calling."""
    authorization = headers.get("authorization")
    api_key = headers.get("x-api-key")
    if api_key is not None:
        if authorization is not None:
            raise AuthenticationFailed("Send either a bearer token or an API key, not both.")
        from chalicelib.auth.api_keys import principal_from_api_key

        return principal_from_api_key(api_key)
    if authorization is None:
        raise AuthenticationFailed("A bearer token or an API key is required.")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        from chalicelib.portal import tokens as portal_tokens

        if portal_tokens.is_portal_token(token.strip()):
            return portal_tokens.principal_from_portal(token.strip())
    return principal_from_bearer(authorization)
