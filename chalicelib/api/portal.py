"""The operator console and subscriber portal pages, and minting portal sessions."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.api.requests import HTML_MEDIA
from chalicelib.api.routing import Call, Reply, endpoint
from chalicelib.core.errors import NotFound

portal = Blueprint(__name__)
TAG = "Console and portal"


def _page(name: str) -> Response:
    from chalicelib.system.console_pages import SECURITY_HEADERS, asset

    found = asset(name)
    if found is None:
        raise NotFound(f"No console file '{name}'.")
    text, content_type = found
    return Response(body=text, status_code=200, headers={"Content-Type": content_type, **SECURITY_HEADERS})


@endpoint(
    portal,
    "/webhooks/portal-sessions",
    "POST",
    summary="Mint a short-lived subscriber-portal link for some of the tenant's subscriptions",
    tag=TAG,
    scope="webhooks.subscriptions.write",
    request="chalicelib.portal.models.PortalSessionRequest",
    response="chalicelib.portal.models.PortalSession",
    status=201,
    errors=(400, 404, 422),
    idempotent=True,
)
def create_portal_session(call: Call) -> Reply:
    from chalicelib.portal import service

    return Reply(service.create(call.tenant_id, call.body), status=201)


@endpoint(
    portal, "/console", "GET", summary="The operator console (static page)", tag=TAG, scope=None, produces=HTML_MEDIA
)
def console_page(call: Call) -> Response:
    return _page("console.html")


@endpoint(
    portal,
    "/console/{asset}",
    "GET",
    summary="A file of the console or portal pages",
    tag=TAG,
    scope=None,
    errors=(404,),
    produces=("text/html", "text/javascript", "text/css"),
)
def console_asset(call: Call) -> Response:
    return _page(call.path["asset"])


@endpoint(
    portal, "/portal", "GET", summary="The subscriber portal (static page)", tag=TAG, scope=None, produces=HTML_MEDIA
)
def portal_page(call: Call) -> Response:
    return _page("portal.html")
