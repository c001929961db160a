"""The events table's stream handler: the one place events leave the platform.

Every event item is written by a transaction with the state it announces (or
alone: events with no state of their own; an inbound delivery is its event's own
item, ``chalicelib.inbound.store``). Its INSERT on the stream (or a redrive's MODIFY:
``events.store.published``) is turned into dispatch messages for the tenant's matching subscriptions, and
nothing else: the platform's EventBridge bus gets an event only through a
subscription whose destination is that bus (issue 22; ``docs/events.md``), so
an event nobody asked for costs no bus entry.

A batch's records are planned in order (their dispatch messages), the
messages of all of them are enqueued together, ten to a SendMessageBatch
across events, and then each record whose messages were all enqueued is
finished in order (the live push). The batch stops at the first record that
fails any of these (``core.batch.handle_stream_in_steps``): Lambda retries the
shard from it, and nothing after it has been finished. Records from it on may
have enqueued some of their messages already, and a crash re-reads the whole
batch: those copies carry the delivery id of their event and subscription,
and the dispatcher sends none of them twice
(``chalicelib.outbound.deliveries``). Other modifications and TTL removals of
event items are ignored. A batch that fails past the mapping's retries goes to
its failure destination (``chalicelib.outbound.stream_failures``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalicelib.core.batch import handle_stream_in_steps
from chalicelib.core.context import set_trace_id
from chalicelib.core.logging import logger
from chalicelib.events import store as events
from chalicelib.events.models import PlatformEvent
from chalicelib.live import push as live
from chalicelib.outbound import fanout, queue
from chalicelib.outbound.models import DispatchMessage


@dataclass(frozen=True)
class Planned:
    """A stream record's event (``None``: nothing to do) and its dispatch messages."""

    event: PlatformEvent | None = None
    messages: list[DispatchMessage] = field(default_factory=list)


def _plan(raw: dict[str, Any]) -> Planned:
    event = events.published(raw)
    if event is None:
        return Planned()
    if event.trace_id:
        set_trace_id(event.trace_id)
    return Planned(event, fanout.fan_out(event))


def _send(plans: list[Planned]) -> int:
    """Enqueue every planned message; how many records, from the first, had all of theirs enqueued."""
    try:
        queue.send_batch(m for plan in plans for m in plan.messages)
    except queue.NotEnqueued as exc:
        logger.exception("fan-out stopped at a message SQS did not take")
        before = 0
        for index, plan in enumerate(plans):
            before += len(plan.messages)
            if exc.first < before:
                return index
    return len(plans)


def _finish(plan: Planned) -> None:
    event = plan.event
    if event is None:
        return
    if event.trace_id:
        set_trace_id(event.trace_id)
    live.push_event(event)  # after the deliveries, and never raises: a failed push cannot hold them up
    logger.info("event fanned out", extra={"eventId": event.event_id, "type": event.type, "queued": len(plan.messages)})


def handle(event: dict[str, Any]) -> dict[str, Any]:
    """Lambda entry for the stream: ``{"batchItemFailures": [...]}`` names the first record to retry from."""
    return handle_stream_in_steps(event, _plan, _send, _finish)
