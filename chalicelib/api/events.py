"""Platform event routes: read one recorded event and its delivery status per subscription."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import Blueprint

from chalicelib.api.routing import Call, endpoint
from chalicelib.core.errors import NotFound

if TYPE_CHECKING:
    from chalicelib.outbound.models import EventDetail

events = Blueprint(__name__)
TAG = "Events"


@endpoint(
    events,
    "/events/{eventId}",
    "GET",
    summary="Get a recorded platform event",
    tag=TAG,
    scope="events.read",
    response="chalicelib.outbound.models.EventDetail",
    errors=(404,),
    portal=True,
)
def get_event(call: Call) -> EventDetail:
    from chalicelib.core import jsontext
    from chalicelib.events import store
    from chalicelib.outbound.models import EventDetail
    from chalicelib.outbound.recovery import delivery_status

    event = store.get(call.tenant_id, call.path["eventId"])
    if event is None:
        raise NotFound(f"Event '{call.path['eventId']}' was not found.")
    deliveries = delivery_status(call.tenant_id, event.event_id)
    allowed = call.principal.subscription_ids
    if allowed is not None:  # a portal sees only events that went to its own subscriptions, and only those deliveries
        deliveries = [d for d in deliveries if d.subscription_id in allowed]
        if not deliveries:
            raise NotFound(f"Event '{call.path['eventId']}' was not found.")
    return EventDetail(**(event.model_dump() | {"data": jsontext.for_api(event.data)}), deliveries=deliveries)
