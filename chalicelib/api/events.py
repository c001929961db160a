"""Platform event routes: read one recorded event and its delivery status per subscription."""

from __future__ import annotations

from chalice.app import Blueprint

from chalicelib.api.routing import Call, endpoint
from chalicelib.core import jsontext
from chalicelib.core.errors import NotFound
from chalicelib.events import store
from chalicelib.outbound.models import EventDetail
from chalicelib.outbound.recovery import delivery_status

events = Blueprint(__name__)
TAG = "Events"


@endpoint(
    events,
    "/events/{eventId}",
    "GET",
    summary="Get a recorded platform event",
    tag=TAG,
    scope="events.read",
    response=EventDetail,
    errors=(404,),
)
def get_event(call: Call) -> EventDetail:
    event = store.get(call.tenant_id, call.path["eventId"])
    if event is None:
        raise NotFound(f"Event '{call.path['eventId']}' was not found.")
    deliveries = delivery_status(call.tenant_id, event.event_id)
    return EventDetail(**(event.model_dump() | {"data": jsontext.for_api(event.data)}), deliveries=deliveries)
