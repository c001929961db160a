"""Inbound webhook routes: the 004 ingest form, the vendor-facing form, delivery reads and redrive, the catalog.

The two ingest routes are public: a delivery authenticates by the vendor's
signature with the connection's secret. A bearer token, when one is sent
anyway, must carry ``webhooks.deliveries.ingest`` and the connection's tenant;
with one, the 004 form may leave out ``X-CS-Connection`` when the tenant has a
single active connection of the provider.
One path level serves ``POST`` (a connection id, where vendors are pointed)
and ``GET`` (a delivery id): API Gateway allows one variable name per level,
so the template names it ``{id}``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import Blueprint

from chalicelib.api.routing import Call, Reply, authenticate, endpoint
from chalicelib.core.config import get_settings
from chalicelib.core.context import current_trace_id
from chalicelib.core.errors import FieldError, ValidationFailed

if TYPE_CHECKING:
    from chalicelib.inbound import service
    from chalicelib.inbound.models import (
        Delivery,
        DeliveryList,
        DeliveryListQuery,
        EventTypeCatalog,
        IngestQuery,
        VendorQuery,
    )

webhooks = Blueprint(__name__)
TAG = "Inbound webhooks"
INGEST_SCOPE = "webhooks.deliveries.ingest"
INGEST_ERRORS = (400, 401, 404, 409, 413, 503)


def _caller_tenant(call: Call) -> str | None:
    if call.headers.get("authorization") is None:
        return None
    principal = authenticate(call.headers)
    principal.require(INGEST_SCOPE)
    return principal.tenant_id


def _reply(outcome: service.Outcome) -> Reply:
    from chalicelib.inbound.models import DeliveryReceipt

    if isinstance(outcome.payload, DeliveryReceipt):
        location = {"Location": f"/webhooks/deliveries/{outcome.payload.delivery_id}"}
        return Reply(outcome.payload, outcome.status, location)
    return Reply(outcome.payload, outcome.status)


@endpoint(
    webhooks,
    "/webhooks/deliveries",
    "POST",
    summary="Ingest an inbound delivery (004 envelope, signed over the raw body)",
    tag=TAG,
    scope=None,
    query="chalicelib.inbound.models.IngestQuery",
    response="chalicelib.inbound.models.DeliveryReceipt",
    status=202,
    errors=INGEST_ERRORS,
    raw_body=True,
)
def ingest_delivery(call: Call) -> Reply:
    from chalicelib.inbound import service

    query: IngestQuery = call.query
    connection_id = call.headers.get("x-cs-connection") or query.connection_id
    provider = call.headers.get("x-cs-provider")
    caller_tenant = _caller_tenant(call)
    if provider and not connection_id and caller_tenant is not None:
        connection_id = service.sole_connection(caller_tenant, provider)
    missing = [
        FieldError(name, "required")
        for name, value in (("X-CS-Provider", provider), ("X-CS-Connection", connection_id))
        if not value
    ]
    if missing:
        raise ValidationFailed(
            "Name the provider and the connection of the delivery (with a bearer token, the provider alone "
            "names the tenant's one active connection of it).",
            missing,
        )
    inbound = service.Inbound(
        connection_id=str(connection_id),
        headers=call.headers,
        body=call.raw_body,
        envelope=True,
        provider_hint=provider,
        caller_tenant=caller_tenant,
    )
    return _reply(service.ingest(inbound))


@endpoint(
    webhooks,
    "/webhooks/deliveries/{id}",
    "POST",
    summary="Receive a vendor's own webhook for a connection (point the vendor at the connection's webhookUrl)",
    tag=TAG,
    scope=None,
    query="chalicelib.inbound.models.VendorQuery",
    response="chalicelib.inbound.models.DeliveryReceipt",
    status=202,
    errors=INGEST_ERRORS,
    raw_body=True,
)
def receive_vendor_delivery(call: Call) -> Reply:
    from chalicelib.inbound import service
    from chalicelib.inbound.signatures.twilio import status_callback_url

    query: VendorQuery = call.query
    path = f"/webhooks/deliveries/{call.path['id']}"
    inbound = service.Inbound(
        connection_id=call.path["id"],
        headers=call.headers,
        body=call.raw_body,
        envelope=False,
        caller_tenant=_caller_tenant(call),
        url=status_callback_url(get_settings().ingest_base_url + path, query.run_id),
        run_id=query.run_id,
    )
    return _reply(service.ingest(inbound))


@endpoint(
    webhooks,
    "/webhooks/deliveries/{id}",
    "GET",
    summary="Get an inbound delivery (headers redacted, payload until retention ends)",
    tag=TAG,
    scope="webhooks.deliveries.read",
    response="chalicelib.inbound.models.Delivery",
    errors=(404,),
)
def get_delivery(call: Call) -> Delivery:
    from chalicelib.inbound import service

    delivery = service.get(call.tenant_id, call.path["id"])
    return delivery.model_copy(update={"trace_id": current_trace_id()})


@endpoint(
    webhooks,
    "/webhooks/deliveries",
    "GET",
    summary="List a connection's inbound deliveries, newest first",
    tag=TAG,
    scope="webhooks.deliveries.read",
    query="chalicelib.inbound.models.DeliveryListQuery",
    response="chalicelib.inbound.models.DeliveryList",
    errors=(400,),
)
def list_deliveries(call: Call) -> DeliveryList:
    from chalicelib.inbound import service
    from chalicelib.inbound.models import DeliveryList

    query: DeliveryListQuery = call.query
    items, next_cursor = service.list_page(call.tenant_id, query.connection_id, query.limit, query.cursor)
    return DeliveryList(items=items, next_cursor=next_cursor)


@endpoint(
    webhooks,
    "/webhooks/event-types",
    "GET",
    summary="The normalization catalog: vendor events to platform event types",
    tag=TAG,
    scope=None,
    response="chalicelib.inbound.models.EventTypeCatalog",
)
def list_event_types(call: Call) -> EventTypeCatalog:
    from chalicelib.inbound import service

    return service.event_types()


@endpoint(
    webhooks,
    "/webhooks/deliveries/{id}/redrive",
    "POST",
    summary="Normalize a Failed delivery again and publish its event (Failed -> Processed)",
    tag=TAG,
    scope=INGEST_SCOPE,
    response="chalicelib.inbound.models.Delivery",
    status=202,
    errors=(404, 409),
    idempotent=True,
)
def redrive_delivery(call: Call) -> Delivery:
    from chalicelib.inbound import redrive

    delivery = redrive.redrive(call.tenant_id, call.path["id"])
    return delivery.model_copy(update={"trace_id": current_trace_id()})
