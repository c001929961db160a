"""Generic HTTP: one request against the connection's base URL.

Writes carry ``Idempotency-Key: <runId>`` so that a vendor honouring the
convention (Stripe, most payment and messaging APIs) applies a redelivered run
once. Headers that would override the credential or the transport are refused.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from chalicelib.adapters.auth import Credential
from chalicelib.adapters.base import Adapter, ExecutionContext, Operation, Parameters
from chalicelib.adapters.http import VendorRequest, VendorResponse

_RESERVED_HEADERS = {
    "authorization",
    "proxy-authorization",
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "cookie",
    "x-api-key",
}
HeaderName = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")]


class RequestParameters(Parameters):
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "GET"
    path: Annotated[str, Field(min_length=1, max_length=2048, pattern=r"^/([^/\s#][^\s#]*)?$")] = Field(
        description="Appended to the base URL; starts with one '/'."
    )
    query: Annotated[dict[HeaderName, Annotated[str, Field(max_length=2048)]], Field(max_length=50)] | None = None
    headers: Annotated[dict[HeaderName, Annotated[str, Field(max_length=8192)]], Field(max_length=50)] | None = None
    body: Any = None

    @field_validator("headers")
    @classmethod
    def _no_reserved(cls, headers: dict[str, str] | None) -> dict[str, str] | None:
        reserved = sorted(name for name in headers or {} if name.lower() in _RESERVED_HEADERS)
        if reserved:
            raise ValueError(f"headers may not set {', '.join(reserved)}")
        return headers


def _request(parameters: RequestParameters, context: ExecutionContext) -> VendorRequest:
    headers = dict(parameters.headers or {})
    if parameters.method != "GET" and context.run_id and not any(k.lower() == "idempotency-key" for k in headers):
        headers["Idempotency-Key"] = context.run_id
    return VendorRequest(
        parameters.method,
        parameters.path,
        query=dict(parameters.query or {}),
        headers=headers,
        json_body=parameters.body,
    )


class GenericHttpAdapter(Adapter):
    provider_key = "generic-http"

    def interpret(self, response: VendorResponse, credential: Credential) -> Any:
        """Status, content type and body: JSON when the vendor says JSON, else text."""
        content_type = response.header("content-type") or ""
        body: Any = response.json() if "json" in content_type else response.body.decode("utf-8", errors="replace")
        return {"status": response.status, "contentType": content_type or None, "body": body}


ADAPTER = GenericHttpAdapter(
    Operation(
        "Request",
        "HTTP Request",
        "Sends one HTTP request to the connection's base URL with its credential. Non-GET requests carry "
        "Idempotency-Key: <runId>, so a retried run is applied once by vendors that honour the header.",
        RequestParameters,
        {
            "type": "object",
            "properties": {
                "status": {"type": "integer"},
                "contentType": {"type": ["string", "null"]},
                "body": {},
            },
        },
        _request,
        idempotent=True,
    ),
)
