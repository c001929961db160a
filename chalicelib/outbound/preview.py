"""Preview: would this subscription take this event, and exactly what would it be sent?

It runs the same code as fan-out and dispatch (``fanout.selects``'s two
tests, ``fanout.body``) on a given event or one of the tenant's recorded
events, without enqueueing or sending anything. Signature headers are left
out on purpose: a preview that signed any body the caller chose would be a
signing oracle, letting anyone with read access forge deliveries to the
receiver. They are computed, over exactly the ``body`` shown, at send time.
"""

from __future__ import annotations

import time

from chalicelib.core.errors import NotFound
from chalicelib.core.timestamps import now_text
from chalicelib.events import store as events
from chalicelib.events.models import PlatformEvent
from chalicelib.outbound import fanout, service, transforms
from chalicelib.outbound.models import Preview, PreviewRequest, SignatureScheme, matches

PREVIEW_EVENT_ID = "evt_preview"


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
    verdict = Preview(
        matches=type_matches and filter_matches, event_type_matches=type_matches, filter_matches=filter_matches
    )
    if not verdict.matches:
        return verdict
    try:
        verdict.body = fanout.body(event, item)
    except transforms.TransformFailed as exc:
        verdict.error = str(exc)
        return verdict
    verdict.headers = {
        "Content-Type": "application/json",
        "webhook-id": event.event_id,
        "webhook-timestamp": str(int(time.time())),
        "X-Retry-Count": "0",
    }
    verdict.signature_scheme = SignatureScheme(item.get("signatureScheme", SignatureScheme.V1))
    return verdict
