"""The events table's stream handler: the one place events leave the platform.

Every event item is written by a transaction with the state it announces (or
alone: events with no state of their own, and an inbound delivery's event, put
before its delivery is marked, ``chalicelib.inbound.processing``). Its INSERT on the stream is
turned into dispatch messages for the tenant's matching subscriptions, and
nothing else: the platform's EventBridge bus gets an event only through a
subscription whose destination is that bus (issue 22; ``docs/events.md``), so
an event nobody asked for costs no bus entry. Records are handled in order and
the batch stops at the first that fails (``core.batch.handle_stream_in_turn``):
Lambda retries the shard from it, and nothing after it has been acted on. The
failed record itself may have enqueued some of its messages before failing,
and a crash re-reads the whole batch: those copies carry the delivery id of
their event and subscription, and the dispatcher sends none of them twice
(``chalicelib.outbound.deliveries``). Modifications and TTL removals of event
items are ignored."""

from __future__ import annotations

from typing import Any

from chalicelib.core.batch import handle_stream_in_turn
from chalicelib.core.context import set_trace_id
from chalicelib.core.logging import logger
from chalicelib.events import store as events
from chalicelib.live import push as live
from chalicelib.outbound import fanout


def _record(raw: dict[str, Any]) -> None:
    if raw.get("eventName") != "INSERT":
        return
    image = raw.get("dynamodb", {}).get("NewImage")
    if not image:
        return
    event = events.from_stream_image(image)
    if event.trace_id:
        set_trace_id(event.trace_id)
    queued = fanout.fan_out(event)
    live.push_event(event)  # after the deliveries, and never raises: a failed push cannot hold them up
    logger.info("event fanned out", extra={"eventId": event.event_id, "type": event.type, "queued": queued})


def handle(event: dict[str, Any]) -> dict[str, Any]:
    """Lambda entry for the stream: ``{"batchItemFailures": [...]}`` names the first record to retry from."""
    return handle_stream_in_turn(event, _record)
