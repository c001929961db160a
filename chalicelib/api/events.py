"""Platform event routes: the events recorded since a time, one event and its delivery status per subscription,
and the platform's EventBridge bus an ``eventbridge`` destination may name."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import Blueprint

from chalicelib.api.routing import Call, endpoint
from chalicelib.core.errors import NotFound

if TYPE_CHECKING:
    from chalicelib.events.models import EventBus
    from chalicelib.outbound.models import EventDetail, EventList, EventListQuery

events = Blueprint(__name__)
TAG = "Events"


@endpoint(
    events,
    "/events/bus",
    "GET",
    summary="The platform's EventBridge bus, which an eventbridge destination may name to put events on it",
    tag=TAG,
    scope="events.read",
    response="chalicelib.events.models.EventBus",
)
def get_event_bus(call: Call) -> EventBus:
    from chalicelib.events import bus

    return bus.describe()


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
    allowed = call.principal.subscription_ids
    deliveries = delivery_status(call.tenant_id, event, allowed)  # a portal: only its own subscriptions' deliveries
    if allowed is not None and not deliveries:  # a portal sees only events that went to its own subscriptions
        raise NotFound(f"Event '{call.path['eventId']}' was not found.")
    return EventDetail(**(event.model_dump() | {"data": jsontext.for_api(event.data)}), deliveries=deliveries)


@endpoint(
    events,
    "/events",
    "GET",
    summary="List the events recorded since a time, oldest first (what a live listener missed)",
    tag=TAG,
    scope="events.read",
    query="chalicelib.outbound.models.EventListQuery",
    response="chalicelib.outbound.models.EventList",
    errors=(400,),
)
def list_events(call: Call) -> EventList:
    from chalicelib.core import jsontext
    from chalicelib.core.timestamps import format_time, parse_time
    from chalicelib.events import store
    from chalicelib.outbound.models import EventList, PublishedEvent

    query: EventListQuery = call.query
    start = format_time(parse_time(query.since, "since"))  # the one form the index sorts by
    found, next_cursor = store.since(call.tenant_id, start, limit=query.limit, cursor=query.cursor)
    items = [
        PublishedEvent(
            event_id=e.event_id, type=e.type, source=e.source, timestamp=e.timestamp, data=jsontext.for_api(e.data)
        )
        for e in found
    ]
    return EventList(items=items, next_cursor=next_cursor)
