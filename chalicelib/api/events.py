"""Platform event routes: read one recorded event."""

from __future__ import annotations

from chalice.app import Blueprint

from chalicelib.api.routing import Call, endpoint
from chalicelib.core.errors import NotFound
from chalicelib.events import store
from chalicelib.events.models import PlatformEvent

events = Blueprint(__name__)
TAG = "Events"


@endpoint(
    events,
    "/events/{eventId}",
    "GET",
    summary="Get a recorded platform event",
    tag=TAG,
    scope="events.read",
    response=PlatformEvent,
    errors=(404,),
)
def get_event(call: Call) -> PlatformEvent:
    event = store.get(call.tenant_id, call.path["eventId"])
    if event is None:
        raise NotFound(f"Event '{call.path['eventId']}' was not found.")
    return event
