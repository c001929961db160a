"""The OpenAPI 3.1 document, derived from the ``endpoint`` declarations and their pydantic models.

Nothing here is written by hand per route: paths, parameters, bodies, security
and error responses all follow from ``Operation`` so the document cannot drift
from what the handlers accept and return. Building it walks every model, so it
happens on the first request for it, never at import (cold start).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from chalicelib.core.models import SHARED_SCHEMAS, ErrorResponse

if TYPE_CHECKING:
    from chalicelib.api.routing import Operation

TITLE = "Integration Platform API"
VERSION = "1.0.0"
REF_TEMPLATE = "#/components/schemas/{model}"
TRACE_HEADER = {"X-Trace-Id": {"$ref": "#/components/headers/X-Trace-Id"}}
RATE_LIMIT_HEADERS = {
    name: {"$ref": f"#/components/headers/{name}"}
    for name in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")
}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Repeat a creation safely: the same key and body within 24 h replay the first response "
    "(with `Idempotent-Replayed: true`) or, when a failure kept it from being recorded, answer with what the "
    "first attempt made, never a second one; another body is 422 `IDEMPOTENCY_KEY_REUSED`, a repeat while the "
    "first is still running 409 `IDEMPOTENCY_KEY_IN_PROGRESS`.",
    # Printable ASCII (what a header carries as is), no space at either end (HTTP would strip it).
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]([ -~]*[!-~])?$"},
}
_RATE_LIMIT_COMPONENTS = {
    "X-RateLimit-Limit": "Requests allowed in the current window (present when limits are on).",
    "X-RateLimit-Remaining": "Requests left in the current window.",
    "X-RateLimit-Reset": "Epoch seconds when the window resets.",
}
_PATH_PARAM = re.compile(r"\{(\w+)\}")
Refs = dict[tuple[type[Any], JsonSchemaMode], dict[str, Any]]

# Statuses every operation of a kind can answer without declaring them: the
# middleware (406, 500), the endpoint wrapper (401, 403, 400/413/415 for bodies, 503 for a transient AWS failure).
_COMMON = {
    406: "The Accept header names no version this API serves.",
    500: "Unexpected failure.",
    503: "A dependency failed for now (throttled, unavailable, timed out); retry after Retry-After, "
    "a create with the same Idempotency-Key (docs/reliability.md).",
}
_AUTHENTICATED = {
    401: "Missing, expired or invalid credentials.",
    403: "The credentials lack the required scope or tenant.",
    429: "Too many requests; retry after the Retry-After header.",
}
_WITH_BODY = {
    400: "The request is not valid; details name each field.",
    413: "The request body is too large.",
    415: "The request body is not JSON.",
}
_DESCRIPTIONS = {
    **_COMMON,
    **_AUTHENTICATED,
    **_WITH_BODY,
    404: "No such resource in the caller's tenant.",
    409: "The resource conflicts with an existing one.",
    422: "The request is well formed but cannot be carried out.",
}

# POST /mcp answers JSON-RPC, its errors included: a message that is not JSON-RPC is HTTP 400 with a JSON-RPC
# error (the streamable HTTP transport's rule, docs/mcp.md); auth and size errors keep the platform's shape.
_JSON_RPC = {
    "type": "object",
    "required": ["jsonrpc"],
    "properties": {
        "jsonrpc": {"const": "2.0"},
        "id": {"type": ["string", "integer", "null"]},
        "result": {"type": "object"},
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "integer"}, "message": {"type": "string"}, "data": {}},
        },
    },
}
# JSON routes whose bodies are not models (the document itself, and MCP's JSON-RPC); pages declare what they produce.
_NON_MODEL_BODIES: dict[str, tuple[str, dict[str, Any]]] = {
    "openapi_document": ("application/json", {"type": "object"}),
    "mcp_endpoint": ("application/json", {"anyOf": [_JSON_RPC, {"type": "array", "items": _JSON_RPC}]}),
}
_JSON_RPC_ERRORS: dict[str, tuple[int, ...]] = {"mcp_endpoint": (400,)}
# Successes besides the declared status: MCP answers notifications and client responses with 202 and no body.
_MORE_SUCCESSES: dict[str, dict[int, str]] = {
    "mcp_endpoint": {202: "Only notifications or responses: nothing to answer."}
}
# What POST /mcp takes: a JSON-RPC request or notification (a batch of them at 2025-03-26, the default without a
# version header); anything else is a 400 (docs/mcp.md).
_JSON_RPC_REQUEST = {
    "type": "object",
    "required": ["jsonrpc", "method"],
    "properties": {
        "jsonrpc": {"const": "2.0"},
        "method": {"type": "string"},
        "id": {"type": ["string", "integer"]},
        "params": {"type": "object"},
    },
}
# Raw bodies that are not the generic "verified as received" object, and the headers an operation reads.
_RAW_REQUEST_BODIES: dict[str, dict[str, Any]] = {
    "mcp_endpoint": {"anyOf": [_JSON_RPC_REQUEST, {"type": "array", "items": _JSON_RPC_REQUEST, "minItems": 1}]}
}
_HEADERS: dict[str, list[dict[str, Any]]] = {
    "ingest_delivery": [
        {
            "name": "X-CS-Provider",
            "in": "header",
            "required": True,
            "description": "The provider's key or id.",
            "schema": {"type": "string", "minLength": 1},
        },
        {
            "name": "X-CS-Connection",
            "in": "header",
            "required": False,
            "description": "The connection (or `?connectionId=`); with a bearer token it may be left out when the "
            "tenant has one active connection of the provider (docs/webhooks-inbound.md).",
            "schema": {"type": "string", "minLength": 1},
        },
    ]
}
# A cursor is opaque: only a ``nextCursor`` this API returned is one.
_CURSOR_DESCRIPTION = "Opaque: the `nextCursor` of the previous page, as returned; anything else is a 400."
# Statuses whose body is the operation's own model rather than the error shape.
_MODEL_STATUSES: dict[str, tuple[int, ...]] = {"platform_health": (503,)}

INFO_DESCRIPTION = (
    "Tenant-scoped REST API of the integration platform. Send "
    "`Accept: application/vnd.connectsoft.integration.v1+json` (or `application/json`) to pick the major "
    "version. Every error is `{error: {code, message, details: [{field, message}]}, traceId}` and every "
    "response carries `X-Trace-Id`. Lists page with `limit` and an opaque `cursor`; the next page's cursor "
    "is `nextCursor`."
)


def _schemas(operations: list[Operation]) -> tuple[Refs, dict[str, Any]]:
    wanted: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {(ErrorResponse, "serialization"): None}
    for op in operations:
        declared: list[tuple[type[BaseModel] | None, JsonSchemaMode]] = [
            (op.request_model, "validation"),
            (op.query_model, "validation"),
            (op.response_model, "serialization"),
        ]
        wanted.update({(model, mode): None for model, mode in declared if model is not None})
    refs, definitions = models_json_schema(list(wanted), by_alias=True, ref_template=REF_TEMPLATE)
    schemas: dict[str, Any] = definitions.get("$defs", {})
    for schema in schemas.values():
        # Pydantic titles each field from its alias ("Providerid"): noise in a reference document.
        for prop in schema.get("properties", {}).values():
            prop.pop("title", None)
    return dict(refs), schemas


def _query_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A query value is absent rather than null, so the null branch and null default go."""
    branches = [branch for branch in schema.get("anyOf", []) if branch != {"type": "null"}]
    if not branches:
        return schema
    cleaned = {
        key: value for key, value in schema.items() if key != "anyOf" and not (key == "default" and value is None)
    }
    return {**cleaned, **branches[0]} if len(branches) == 1 else {**cleaned, "anyOf": branches}


def _parameters(op: Operation, refs: Refs, definitions: dict[str, Any]) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
        for name in _PATH_PARAM.findall(op.path)
    ]
    if op.query_model is not None:
        query = definitions[refs[(op.query_model, "validation")]["$ref"].rsplit("/", 1)[-1]]
        required = set(query.get("required", []))
        for name, schema in query.get("properties", {}).items():
            parameter: dict[str, Any] = {"name": name, "in": "query", "required": name in required}
            parameter["schema"] = _query_schema(schema)
            if "description" in schema:
                parameter["description"] = schema["description"]
            if name == "cursor":
                parameter["description"] = _CURSOR_DESCRIPTION
            parameters.append(parameter)
    return parameters + _HEADERS.get(op.operation_id, [])


def _json(schema: dict[str, Any], media: str = "application/json") -> dict[str, Any]:
    return {media: {"schema": schema}}


def _responses(op: Operation, refs: Refs) -> dict[str, Any]:
    error_ref = refs[(ErrorResponse, "serialization")]
    model_ref = refs[(op.response_model, "serialization")] if op.response_model is not None else None
    common_headers = {**TRACE_HEADER, **(RATE_LIMIT_HEADERS if op.scope is not None else {})}
    success: dict[str, Any] = {"description": "Success.", "headers": dict(common_headers)}
    if model_ref is not None:
        success["content"] = _json(model_ref)
    elif op.operation_id in _NON_MODEL_BODIES:
        media, schema = _NON_MODEL_BODIES[op.operation_id]
        success["content"] = _json(schema, media)
    elif "application/json" not in op.produces:
        success["content"] = {media: {"schema": {"type": "string"}} for media in op.produces}
    if op.status in (201, 202):
        where = "The created resource." if op.status == 201 else "Where to follow the accepted work."
        success["headers"]["Location"] = {"description": where, "schema": {"type": "string"}}
    statuses = set(op.errors) | set(_COMMON)
    if op.scope is not None:
        statuses |= set(_AUTHENTICATED)
    if op.request_model is not None or op.raw_body:
        statuses |= set(_WITH_BODY)
    if op.query_model is not None:
        statuses.add(400)
    if op.idempotent:
        statuses |= {400, 409, 422}
    responses = {str(op.status): success}
    for status, description in _MORE_SUCCESSES.get(op.operation_id, {}).items():
        responses[str(status)] = {"description": description, "headers": dict(common_headers)}
    for status in sorted(statuses - {op.status}):
        own_model = model_ref is not None and status in _MODEL_STATUSES.get(op.operation_id, ())
        json_rpc = status in _JSON_RPC_ERRORS.get(op.operation_id, ())
        schema = {"anyOf": [model_ref, error_ref]} if own_model else error_ref
        response: dict[str, Any] = {
            "description": _DESCRIPTIONS.get(status, "Error."),
            "headers": dict(common_headers),
            "content": _json({"anyOf": [_JSON_RPC, error_ref]} if json_rpc else schema),
        }
        if status == 429:
            response["headers"]["Retry-After"] = {
                "description": "Seconds to wait; also in the error's details as `retry_after`.",
                "schema": {"type": "integer"},
            }
        if status == 503 and not own_model:
            response["headers"]["Retry-After"] = {"description": "Seconds to wait.", "schema": {"type": "integer"}}
        responses[str(status)] = response
    return responses


def _request_body(op: Operation, refs: Refs) -> dict[str, Any] | None:
    if op.request_model is not None:
        return {"required": True, "content": _json(refs[(op.request_model, "validation")])}
    if op.raw_body:
        return {
            "required": True,
            "description": "Verified as the exact bytes received.",
            "content": _json(_RAW_REQUEST_BODIES.get(op.operation_id, {"type": "object"})),
        }
    return None


def _operation(op: Operation, refs: Refs, definitions: dict[str, Any]) -> dict[str, Any]:
    document: dict[str, Any] = {"operationId": op.operation_id, "summary": op.summary, "tags": [op.tag]}
    if op.scope is None:
        document["description"] = (
            "Authenticated by the sender's signature over the raw body, not by a bearer token or API key."
            " A deployed stage serves it on the ingest address (a connection's webhookUrl), not this API's."
            if op.vendor_facing
            else "Public: no credentials are required."
        )
        document["security"] = []
    else:
        document["description"] = f"Requires the scope `{op.scope}` (bearer token or API key)."
        document["security"] = [{"bearerAuth": [op.scope]}, {"apiKeyAuth": [op.scope]}]
        document["x-required-scope"] = op.scope
    if op.vendor_facing:
        document["x-front"] = "ingest"
    parameters = _parameters(op, refs, definitions)
    if op.idempotent:
        parameters.append(dict(IDEMPOTENCY_KEY))
    if parameters:
        document["parameters"] = parameters
    body = _request_body(op, refs)
    if body is not None:
        document["requestBody"] = body
    document["responses"] = _responses(op, refs)
    if op.deprecation is not None:
        document["deprecated"] = True
        document["x-sunset"] = op.deprecation.sunset.isoformat()
        document["description"] += (
            f" Deprecated since {op.deprecation.since.isoformat()}; may stop working after"
            f" {op.deprecation.sunset.isoformat()} ({op.deprecation.doc})."
        )
    return document


def build_document(operations: Iterable[Operation]) -> dict[str, Any]:
    ops = list(operations)
    refs, definitions = _schemas(ops)
    paths: dict[str, dict[str, Any]] = {}
    tags: dict[str, None] = {}
    for op in ops:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, refs, definitions)
        tags[op.tag] = None
    return {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": VERSION, "description": INFO_DESCRIPTION},
        "servers": [{"url": "/"}],
        "tags": [{"name": tag} for tag in tags],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted({**definitions, **SHARED_SCHEMAS}.items())),
            "headers": {
                "X-Trace-Id": {
                    "description": "The request's trace id (from traceparent or X-Correlation-Id when sent).",
                    "required": True,
                    "schema": {"type": "string"},
                },
                **{
                    name: {"description": text, "schema": {"type": "integer"}}
                    for name, text in _RATE_LIMIT_COMPONENTS.items()
                },
            },
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "apiKeyAuth": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            },
        },
    }


@cache
def document_json() -> str:
    """Built once per process from the operations registered by then (all of them, after ``app`` imports)."""
    from chalicelib.api.routing import OPERATIONS

    return json.dumps(build_document(OPERATIONS), separators=(",", ":"))
