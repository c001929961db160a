"""Preview: would this subscription take this event, and exactly what would it be sent?

It runs the same code as fan-out and dispatch (``fanout.selects``'s two
tests, ``fanout.body``) on a given event or one of the tenant's recorded
events, without enqueueing or sending anything. Signature headers are left
out on purpose: a preview that signed any body the caller chose would be a
signing oracle, letting anyone with read access forge deliveries to the
receiver. They are computed, over exactly the ``body`` shown, at send time.
An AWS destination is sent the same ``body``, unsigned, with the event's id,
type and timestamp beside it (docs/webhooks-outbound.md "Destinations").
"""

from __future__ import annotations

import time
from typing import Annotated

from pydantic import ConfigDict, Field, model_validator

from chalicelib.core.errors import NotFound
from chalicelib.core.models import JsonObject, RequestModel, WireModel, exactly_one_of
from chalicelib.core.timestamps import Timestamp, now_text
from chalicelib.destinations.models import Destination, WebhookDestination
from chalicelib.events import store as events
from chalicelib.events.models import PlatformEvent
from chalicelib.outbound import fanout, service, target, transforms
from chalicelib.outbound.models import EVENT_TYPE, SignatureScheme, matches

PREVIEW_EVENT_ID = "evt_preview"


class PreviewEvent(RequestModel):
    """An event to try a subscription on; ``id`` and ``timestamp`` default to made-up ones."""

    type: Annotated[str, Field(pattern=EVENT_TYPE.pattern)]
    data: JsonObject = Field(default_factory=dict)
    source: Annotated[str, Field(min_length=1, max_length=200)] = "preview"
    id: Annotated[str, Field(min_length=1, max_length=80)] | None = None
    timestamp: Timestamp | None = None


class PreviewRequest(RequestModel):
    """Give an ``event`` or the ``eventId`` of one of the tenant's recorded events, not both."""

    model_config = ConfigDict(json_schema_extra=exactly_one_of("event", "eventId"))

    event: PreviewEvent | None = None
    event_id: Annotated[str, Field(min_length=1, max_length=80)] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> PreviewRequest:
        if (self.event is None) == (self.event_id is None):
            raise ValueError("give either event or eventId")
        return self


class Preview(WireModel):
    """Whether the subscription takes the event and, if so, exactly what would be sent."""

    matches: bool
    event_type_matches: bool
    filter_matches: bool
    destination: Destination | None = Field(default=None, description="Where it would be sent.")
    body: str | None = Field(
        default=None, description="The exact bytes that would be sent (and, to a webhook, signed)."
    )
    headers: dict[str, str] | None = Field(
        default=None,
        description="A webhook's headers that would be sent; signatures are computed only at send time.",
    )
    signature_scheme: SignatureScheme | None = Field(
        default=None,
        description="How webhook-signature (and, for v1, X-Signature-256) will be added over body at send time.",
    )
    error: str | None = Field(default=None, description="Why no body could be built (the transform failed).")
    trace_id: str | None = None


def _event(tenant_id: str, request: PreviewRequest) -> PlatformEvent:
    if request.event_id is not None:
        recorded = events.get(tenant_id, request.event_id)
        if recorded is None:
            raise NotFound(f"Event '{request.event_id}' does not exist (or is older than the events kept).")
        return recorded
    given = request.event
    assert given is not None  # PreviewRequest holds exactly one of the two
    return PlatformEvent(
        event_id=given.id or PREVIEW_EVENT_ID,
        tenant_id=tenant_id,
        type=given.type,
        source=given.source,
        timestamp=given.timestamp or now_text(),
        data=given.data,
    )


def preview(tenant_id: str, subscription_id: str, request: PreviewRequest) -> Preview:
    item = service.get_item(tenant_id, subscription_id)
    event = _event(tenant_id, request)
    type_matches = matches(item["eventTypes"], event.type)
    filter_matches = fanout.filter_matches(item, event)
    destination = target.of(item)
    verdict = Preview(
        matches=type_matches and filter_matches,
        event_type_matches=type_matches,
        filter_matches=filter_matches,
        destination=destination,
    )
    if not verdict.matches:
        return verdict
    try:
        verdict.body = fanout.body(event, item)
    except transforms.TransformFailed as exc:
        verdict.error = str(exc)
        return verdict
    if not isinstance(destination, WebhookDestination):
        return verdict  # not signed: the body is what the message holds
    verdict.headers = {
        "Content-Type": "application/json",
        "webhook-id": event.event_id,
        "webhook-timestamp": str(int(time.time())),
        "X-Retry-Count": "0",
    }
    verdict.signature_scheme = SignatureScheme(item.get("signatureScheme", SignatureScheme.V1))
    return verdict
