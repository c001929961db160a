"""Outbound webhook subscription routes: CRUD, secret rotation, attempt log, recovery."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import Blueprint, Response

from chalicelib.api.requests import parse_json_body
from chalicelib.api.routing import Call, Reply, endpoint
from chalicelib.core.context import current_trace_id
from chalicelib.core.errors import AuthorizationDenied

if TYPE_CHECKING:
    from chalicelib.outbound.models import (
        AttemptList,
        CreateSubscriptionRequest,
        PublicKey,
        Queued,
        RecoverRequest,
        RotatedSecret,
        Subscription,
        SubscriptionList,
        UpdateSubscriptionRequest,
    )
    from chalicelib.outbound.preview import Preview

subscriptions = Blueprint(__name__)
TAG = "Webhook subscriptions"
READ = "webhooks.subscriptions.read"
WRITE = "webhooks.subscriptions.write"
ONE = "/webhooks/subscriptions/{subscriptionId}"


def _traced(subscription: Subscription) -> Subscription:
    return subscription.model_copy(update={"trace_id": current_trace_id()})


@endpoint(
    subscriptions,
    "/webhooks/subscriptions",
    "POST",
    summary="Create an outbound subscription: a webhook, or an SQS, SNS, EventBridge or Kinesis destination",
    tag=TAG,
    scope=WRITE,
    request="chalicelib.outbound.models.CreateSubscriptionRequest",
    response="chalicelib.outbound.models.Subscription",
    status=201,
    errors=(400, 403, 422),
    idempotent=True,
)
def create_subscription(call: Call) -> Reply:
    from chalicelib.outbound import service

    body: CreateSubscriptionRequest = call.body
    call.principal.require_tenant(body.tenant_id)
    subscription, created = service.create(call.tenant_id, body, call.keyed_id("sub"))
    location = {"Location": f"/webhooks/subscriptions/{subscription.subscription_id}"}
    return Reply(_traced(subscription), headers=location, replayed=not created)


@endpoint(
    subscriptions,
    "/webhooks/subscriptions",
    "GET",
    summary="List webhook subscriptions",
    tag=TAG,
    scope=READ,
    query="chalicelib.outbound.models.SubscriptionListQuery",
    response="chalicelib.outbound.models.SubscriptionList",
    errors=(400,),
)
def list_subscriptions(call: Call) -> SubscriptionList:
    from chalicelib.outbound import service
    from chalicelib.outbound.models import SubscriptionList

    items, next_cursor = service.list_page(call.tenant_id, call.query)
    return SubscriptionList(items=items, next_cursor=next_cursor)


@endpoint(
    subscriptions,
    ONE,
    "GET",
    summary="Get a subscription",
    tag=TAG,
    scope=READ,
    response="chalicelib.outbound.models.Subscription",
    errors=(404,),
    portal=True,
)
def get_subscription(call: Call) -> Subscription:
    from chalicelib.outbound import service
    from chalicelib.stats import read
    from chalicelib.stats.record import SUBSCRIPTION

    call.principal.require_subscription(call.path["subscriptionId"])
    subscription = service.get(call.tenant_id, call.path["subscriptionId"])
    numbers = read.usage(call.tenant_id, SUBSCRIPTION, subscription.subscription_id)
    return _traced(subscription.model_copy(update={"stats": numbers}))


@endpoint(
    subscriptions,
    ONE,
    "PATCH",
    summary="Change a subscription's destination, event types or state; active=true re-enables a disabled one",
    tag=TAG,
    scope=WRITE,
    request="chalicelib.outbound.models.UpdateSubscriptionRequest",
    response="chalicelib.outbound.models.Subscription",
    errors=(400, 403, 404, 422),
    portal=True,
)
def update_subscription(call: Call) -> Subscription:
    from chalicelib.outbound import service

    call.principal.require_subscription(call.path["subscriptionId"])
    body: UpdateSubscriptionRequest = call.body
    if call.principal.is_portal and body.destination is not None and body.destination.type != "webhook":
        # The platform writes there as the tenant: a tenant's customer may not aim it at the tenant's resources.
        raise AuthorizationDenied("A portal session can point a subscription only at a webhook URL.")
    return _traced(service.update(call.tenant_id, call.path["subscriptionId"], body))


@endpoint(
    subscriptions, ONE, "DELETE", summary="Delete a subscription", tag=TAG, scope=WRITE, status=204, errors=(404,)
)
def delete_subscription(call: Call) -> Response:
    from chalicelib.outbound import service

    service.delete(call.tenant_id, call.path["subscriptionId"])
    return Response(body="", status_code=204, headers={})


@endpoint(
    subscriptions,
    ONE + "/rotate-secret",
    "POST",
    summary="Rotate the signing secret; the old one keeps signing through the overlap",
    tag=TAG,
    scope=WRITE,
    response="chalicelib.outbound.models.RotatedSecret",
    errors=(400, 403, 404, 409, 422),
    portal=True,
)
def rotate_secret(call: Call) -> RotatedSecret:
    from chalicelib.outbound import service
    from chalicelib.outbound.models import RotateSecretRequest

    call.principal.require_subscription(call.path["subscriptionId"])
    request = (
        parse_json_body(call.headers, call.raw_body, RotateSecretRequest)
        if call.raw_body.strip()
        else RotateSecretRequest()
    )
    if call.principal.is_portal and request.signing_secret_ref is not None:
        # A tenant's customer may not point its endpoint at (or probe for) the tenant's other secrets.
        raise AuthorizationDenied("A portal session cannot use signingSecretRef; the platform generates the secret.")
    rotated = service.rotate(call.tenant_id, call.path["subscriptionId"], request)
    return rotated.model_copy(update={"trace_id": current_trace_id()})


@endpoint(
    subscriptions,
    ONE + "/attempts",
    "GET",
    summary="List delivery attempts, newest first",
    tag=TAG,
    scope=READ,
    query="chalicelib.outbound.models.AttemptListQuery",
    response="chalicelib.outbound.models.AttemptList",
    errors=(400, 404),
    portal=True,
)
def list_attempts(call: Call) -> AttemptList:
    from chalicelib.outbound import recovery
    from chalicelib.outbound.models import AttemptList

    call.principal.require_subscription(call.path["subscriptionId"])
    items, next_cursor = recovery.list_attempts(call.tenant_id, call.path["subscriptionId"], call.query)
    return AttemptList(items=items, next_cursor=next_cursor)


@endpoint(
    subscriptions,
    ONE + "/recover",
    "POST",
    summary="Requeue every delivery that finally failed since a time",
    tag=TAG,
    scope=WRITE,
    request="chalicelib.outbound.models.RecoverRequest",
    response="chalicelib.outbound.models.Queued",
    status=202,
    errors=(400, 404, 409),
)
def recover_subscription(call: Call) -> Queued:
    from chalicelib.outbound import recovery

    body: RecoverRequest = call.body
    queued = recovery.recover(call.tenant_id, call.path["subscriptionId"], body.since)
    return queued.model_copy(update={"trace_id": current_trace_id()})


@endpoint(
    subscriptions,
    ONE + "/preview",
    "POST",
    summary="Show whether an event (given, or a recent one by eventId) matches and exactly what would be sent",
    tag=TAG,
    scope=READ,
    request="chalicelib.outbound.preview.PreviewRequest",
    response="chalicelib.outbound.preview.Preview",
    errors=(400, 404),
)
def preview_subscription(call: Call) -> Preview:
    from chalicelib.outbound import preview

    shown = preview.preview(call.tenant_id, call.path["subscriptionId"], call.body)
    return shown.model_copy(update={"trace_id": current_trace_id()})


@endpoint(
    subscriptions,
    ONE + "/public-key",
    "GET",
    summary="The ed25519 keys (whpk_...) that verify a v1a subscription's signatures (none for v1)",
    tag=TAG,
    scope=READ,
    response="chalicelib.outbound.models.PublicKey",
    errors=(404,),
)
def get_public_key(call: Call) -> PublicKey:
    from chalicelib.outbound import service

    return service.public_keys(call.tenant_id, call.path["subscriptionId"])
