"""Which frames one platform event makes for one socket's subscriptions.

Every event is a frame of its own type (``RunCompleted``, ``PullRequestMerged``,
...); a run's events are also a ``run.progress`` frame (002's ``task.progress``),
and each webhook delivery attempt is a ``delivery.attempt`` frame.
A subscription with no ``events`` takes every type. Filters compare with the
event's ``data``, so an event without the field never matches a filter on it.
"""

from __future__ import annotations

from typing import Any

from chalicelib.core import jsontext
from chalicelib.events.catalog import RUN_COMPLETED, RUN_FAILED, RUN_STARTED
from chalicelib.events.models import PlatformEvent
from chalicelib.live.frames import DELIVERY_ATTEMPT, RUN_PROGRESS, Filters, Subscription
from chalicelib.outbound.models import Attempt

# API Gateway's PostToConnection takes at most 128 KB; a larger event goes out without its data.
MAX_PUSH_BYTES = 128 * 1024
_PROGRESS = {RUN_STARTED: 0, RUN_COMPLETED: 100, RUN_FAILED: 100}
_FILTERED = (("connection_id", "connectionId"), ("subscription_id", "subscriptionId"), ("run_id", "runId"))


def _passes(filters: Filters, data: dict[str, Any]) -> bool:
    for attribute, field in _FILTERED:
        wanted = getattr(filters, attribute)
        if wanted is not None and data.get(field) != wanted:
            return False
    return True


def typed_views(event: PlatformEvent) -> list[tuple[str, dict[str, Any]]]:
    """The (type, data) pairs an event is seen as: itself, and for a run its progress."""
    views = [(event.type, event.data)]
    if event.type in _PROGRESS:
        data = event.data
        progress = {
            "runId": data.get("runId"),
            "connectionId": data.get("connectionId"),
            "operation": data.get("operation"),
            "status": data.get("status"),
            "progress": _PROGRESS[event.type],
        }
        views.append((RUN_PROGRESS, {k: v for k, v in progress.items() if v is not None}))
    return views


def attempt_view(attempt: Attempt) -> tuple[str, dict[str, Any]]:
    """A webhook delivery attempt as a frame's (type, data); the receiver's body stays in the attempts log."""
    data = attempt.model_dump(mode="json", by_alias=True, exclude_none=True, exclude={"response_body"})
    return DELIVERY_ATTEMPT, data


def frames_for(event: PlatformEvent, subscriptions: list[Subscription]) -> list[bytes]:
    """Each matching (subscription, view) of the event as one frame, in subscription order."""
    return matching_frames(event.event_id, event.timestamp, typed_views(event), subscriptions)


def matching_frames(
    event_id: str, time: str, views: list[tuple[str, dict[str, Any]]], subscriptions: list[Subscription]
) -> list[bytes]:
    """Each (view, subscription) pair that matches as one frame; none when nothing matches."""
    frames: list[bytes] = []
    for frame_type, data in views:
        for subscription in subscriptions:
            if subscription.events and frame_type not in subscription.events:
                continue
            if not _passes(subscription.filters, data):
                continue
            frames.append(_frame(event_id, time, frame_type, data, subscription.id))
    return frames


def _frame(event_id: str, time: str, frame_type: str, data: dict[str, Any], subscription_id: str) -> bytes:
    frame: dict[str, Any] = {
        "type": frame_type,
        "id": event_id,
        "time": time,
        "subscription": subscription_id,
        "data": data,
    }
    encoded = jsontext.dumps(frame).encode()  # the data's numbers exactly as stored, as a webhook carries them
    if len(encoded) <= MAX_PUSH_BYTES:
        return encoded
    # Too large for one push: the id is enough to read it (GET /events/{eventId}).
    frame["data"] = {}
    frame["dataOmitted"] = True
    return jsontext.dumps(frame).encode()
