"""Publishing events (``POST /events``) and redelivering them to subscribers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import Blueprint

from chalicelib.api.requests import parse_json_body
from chalicelib.api.routing import Call, Reply, endpoint
from chalicelib.core.context import current_trace_id
from chalicelib.core.errors import NotFound

if TYPE_CHECKING:
    from chalicelib.outbound.models import Queued

event_publishing = Blueprint(__name__)
TAG = "Events"


@endpoint(
    event_publishing,
    "/events",
    "POST",
    summary="Publish an event to the tenant's subscribers (Idempotency-Key honoured)",
    tag=TAG,
    scope="events.write",
    request="chalicelib.outbound.models.PublishEventRequest",
    response="chalicelib.outbound.models.PublishedEvent",
    status=201,
    errors=(400, 422, 503),
    idempotent=True,
)
def publish_event(call: Call) -> Reply:
    from chalicelib.core import jsontext
    from chalicelib.outbound import publishing
    from chalicelib.outbound.models import PublishedEvent

    key = call.headers.get("idempotency-key")
    event, created = publishing.publish(call.tenant_id, call.body, key, f"api:{call.principal.subject}")
    published = PublishedEvent(
        event_id=event.event_id,
        type=event.type,
        source=event.source,
        timestamp=event.timestamp,
        data=jsontext.for_api(event.data),
        trace_id=current_trace_id(),
    )
    headers = {"Location": f"/events/{event.event_id}"}
    if not created:
        headers["Idempotent-Replayed"] = "true"
    return Reply(published, 201 if created else 200, headers)


@endpoint(
    event_publishing,
    "/events/{eventId}/redeliver",
    "POST",
    summary="Send an event again to every matching subscription, or to one",
    tag=TAG,
    scope="events.write",
    response="chalicelib.outbound.models.Queued",
    status=202,
    errors=(400, 404, 409, 422),
    portal=True,
)
def redeliver_event(call: Call) -> Queued:
    from chalicelib.outbound import recovery
    from chalicelib.outbound.models import RedeliverRequest

    request = (
        parse_json_body(call.headers, call.raw_body, RedeliverRequest) if call.raw_body.strip() else RedeliverRequest()
    )
    if call.principal.is_portal:  # a portal replays only what its own subscription was sent, never to others
        call.principal.require_subscription(request.subscription_id)
        from chalicelib.events import store as events

        event = events.get(call.tenant_id, call.path["eventId"])
        only = {request.subscription_id} if request.subscription_id else set()
        sent = {d.subscription_id for d in recovery.delivery_status(call.tenant_id, event, only)} if event else set()
        if request.subscription_id not in sent:
            raise NotFound(f"Event '{call.path['eventId']}' was not found.")
    queued = recovery.redeliver(call.tenant_id, call.path["eventId"], request.subscription_id)
    return queued.model_copy(update={"trace_id": current_trace_id()})
