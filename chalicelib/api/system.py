"""Public system routes: platform health and the API description (document and docs page)."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.api.requests import HTML_MEDIA
from chalicelib.api.routing import Call, Reply, endpoint

system = Blueprint(__name__)
TAG = "System"


@endpoint(
    system,
    "/health",
    "GET",
    summary="Platform health (DynamoDB, SQS, Secrets Manager)",
    tag=TAG,
    scope=None,
    response="chalicelib.system.health.PlatformHealth",
    errors=(503,),
)
def platform_health(call: Call) -> Reply:
    from chalicelib.system.health import check_platform

    health = check_platform()
    return Reply(health, status=200 if health.status == "Healthy" else 503)


@endpoint(system, "/openapi.json", "GET", summary="The OpenAPI 3.1 description of this API", tag=TAG, scope=None)
def openapi_document(call: Call) -> Response:
    from chalicelib.api.openapi import document_json  # pydantic's schema generator: first request only

    return Response(body=document_json(), status_code=200, headers={"Content-Type": "application/json"})


@endpoint(
    system,
    "/docs",
    "GET",
    summary="Browsable API reference (renders /openapi.json)",
    tag=TAG,
    scope=None,
    produces=HTML_MEDIA,
)
def api_docs(call: Call) -> Response:
    from chalicelib.system.docs_page import docs_html

    return Response(body=docs_html(), status_code=200, headers={"Content-Type": "text/html; charset=utf-8"})
