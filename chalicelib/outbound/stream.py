"""The events table's stream handler: the one place events leave the platform.

Every event item is written by a transaction with the state it announces (or
alone: events with no state of their own; an inbound delivery is its event's own
item, ``chalicelib.inbound.store``). Its INSERT on the stream (or a redrive's MODIFY:
``events.store.published``) is turned into dispatch messages for the tenant's
matching subscriptions, and nothing else: the platform's EventBridge bus gets an
event only through a subscription whose destination is that bus (issue 22;
``docs/events.md``), so an event nobody asked for costs no bus entry. Records are
handled in order and the batch stops at the first that fails
(``core.batch.handle_stream_in_turn``): Lambda retries the shard from it, and
nothing after it has been acted on. The failed record itself may have enqueued
some of its messages before failing, and a crash re-reads the whole batch: those
copies carry the delivery id of their event and subscription, and the dispatcher
sends none of them twice (``chalicelib.outbound.deliveries``). Other modifications
and TTL removals of event items are ignored. A batch that fails past the mapping's
retries goes to its failure destination (``chalicelib.outbound.stream_failures``)."""

from __future__ import annotations

from typing import Any

from chalicelib.core.batch import handle_stream_in_turn
from chalicelib.core.context import set_trace_id
from chalicelib.core.logging import logger
from chalicelib.events import store as events
from chalicelib.live import push as live
from chalicelib.outbound import fanout


def _record(raw: dict[str, Any]) -> None:
    event = events.published(raw)
    if event is None:
        return
    if event.trace_id:
        set_trace_id(event.trace_id)
    queued = fanout.fan_out(event)
    live.push_event(event)  # after the deliveries, and never raises: a failed push cannot hold them up
    logger.info("event fanned out", extra={"eventId": event.event_id, "type": event.type, "queued": queued})


def handle(event: dict[str, Any]) -> dict[str, Any]:
    """Lambda entry for the stream: ``{"batchItemFailures": [...]}`` names the first record to retry from."""
    return handle_stream_in_turn(event, _record)
