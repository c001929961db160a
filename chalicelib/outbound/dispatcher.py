"""The outbound-dispatch SQS handler: deliver a batch concurrently, retry through SQS.

A batch's subscriptions are read with one BatchGetItem, then every record is
delivered on a shared thread pool, so ten records to a receiver that answers in
200 ms take about 200 ms. A failed delivery is not a failed record: the next
attempt is a new delayed message and the original is acknowledged. A record is
reported as a batch item failure only when the platform itself failed (AWS
errors), and then SQS redelivers just that record.

Sends are keyed on the delivery (event and subscription, ``deliveries``): the
batch reads the latest status of its deliveries (status items and first-try
successes) in one BatchGetItem, and a message whose attempt is already
recorded, or a second copy in the same batch, is acknowledged without a POST (a
stream record read again, SQS handing a message out twice). A fan-out
delivery's first-try success is recorded as one item, every other attempt as
two (``store.record_attempt``).

Order inside a record: send, enqueue the follow-up (retry or dead letter), then
record the attempt. Only a failure or crash between the send and the record
sends again: the message comes back, finds no record and is sent (at least
once), and its second follow-up is dropped when it finds the first one's
attempt recorded. Recording last means no follow-up is ever lost.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.core import backoff, metrics, tracing
from chalicelib.core.batch import SqsRecord, handle_concurrently, pool
from chalicelib.core.dynamo import Item
from chalicelib.core.ids import new_id
from chalicelib.core.logging import logger
from chalicelib.core.timestamps import from_epoch, now_text, parse_time
from chalicelib.destinations import delivery
from chalicelib.destinations.base import Outcome
from chalicelib.destinations.models import WebhookDestination
from chalicelib.events import store as events
from chalicelib.live import push as live
from chalicelib.outbound import deliveries, fanout, queue, retry, sender, service, signing, store, target, transforms
from chalicelib.outbound import secrets as signing_secrets
from chalicelib.outbound.config import get_outbound_settings
from chalicelib.outbound.models import Attempt, AttemptStatus, DispatchMessage
from chalicelib.stats import record as stats

NOT_DUE_SLACK = 0.5
RECORD_TRIES = 4
RECORD_PAUSE_SECONDS = 0.25


@dataclass(frozen=True)
class Batch:
    """A batch's messages by ``messageId`` (or why one is unreadable), with what one BatchGetItem read for them:
    the subscriptions they name, and each delivery's status item and first-try success."""

    messages: dict[str, DispatchMessage | Exception]
    subscriptions: dict[tuple[str, str], Item]
    statuses: dict[tuple[str, str, str], Item]
    first_tries: dict[tuple[str, str, str], Item]

    def subscription(self, message: DispatchMessage) -> Item | None:
        return self.subscriptions.get((message.tenant_id, message.subscription_id))

    def status(self, message: DispatchMessage) -> Item | None:
        """The delivery's latest status (``deliveries.latest``)."""
        key = (message.tenant_id, message.event_id, message.subscription_id)
        return deliveries.latest(self.statuses.get(key), self.first_tries.get(key))


def prepare(event: dict[str, Any]) -> Batch:
    """Parse every record and read what the batch needs in one consistent BatchGetItem."""
    messages: dict[str, DispatchMessage | Exception] = {}
    for record in event.get("Records", []):
        try:
            messages[record["messageId"]] = DispatchMessage.model_validate_json(record["body"])
        except ValueError as exc:
            messages[record["messageId"]] = exc
    parsed = [m for m in messages.values() if isinstance(m, DispatchMessage)]
    subscriptions, statuses, successes = store.dispatch_reads(
        {(m.tenant_id, m.subscription_id) for m in parsed},
        {(m.tenant_id, m.event_id, m.subscription_id) for m in parsed if m.delivery_id},
        {(m.tenant_id, m.subscription_id, key) for m in parsed if (key := deliveries.first_try_key_of(m))},
    )
    return Batch(messages, subscriptions, statuses, successes)


def sent_before(batch: Batch) -> Callable[[DispatchMessage], bool]:
    """Whether a message's attempt was made already: recorded before the batch, or taken by an earlier record."""
    taken: set[tuple[str, int]] = set()
    lock = threading.Lock()

    def check(message: DispatchMessage) -> bool:
        if message.delivery_id is None:  # queued before deliveries had ids: sent as it comes
            return False
        if deliveries.already_made(message, batch.status(message)):
            return True
        with lock:
            seen = (message.delivery_id, message.attempt) in taken
            taken.add((message.delivery_id, message.attempt))
        return seen

    return check


def handle(event: dict[str, Any]) -> dict[str, Any]:
    """Lambda entry: returns ``{"batchItemFailures": [...]}`` for ReportBatchItemFailures."""
    batch = prepare(event)
    duplicate = sent_before(batch)

    def run(record: SqsRecord) -> None:
        message = batch.messages[record.message_id]
        if isinstance(message, Exception):
            raise message
        if duplicate(message):
            logger.info(
                "duplicate dispatch message dropped",
                extra={"eventId": message.event_id, "deliveryId": message.delivery_id, "attempt": message.attempt},
            )
            return
        try:
            deliver(message, batch.subscription(message))
        except Exception:
            logger.exception("dispatch record failed", extra={"messageId": record.message_id})
            raise

    executor = pool("dispatch", get_outbound_settings().max_concurrency)
    with stats.collecting():  # the batch's attempts, summed: written per subscription at most every few seconds
        return handle_concurrently(event, run, executor, raise_on_entire_batch_failure=False)


def _body(message: DispatchMessage, subscription: Item | None) -> str | None:
    if message.body is not None:
        return message.body
    recorded = events.get(message.tenant_id, message.event_id)
    return fanout.body(recorded, subscription) if recorded else None


def deliver(message: DispatchMessage, subscription: Item | None) -> float | None:
    """Send one delivery; for an ordered one, the seconds to hold it before its retry (``None``: done)."""
    now = time.time()
    if message.due_at is not None and message.due_at > now + NOT_DUE_SLACK:
        queue.send_delayed(message, message.due_at - now)
        return None
    try:
        text = _body(message, subscription)
    except transforms.TransformFailed as exc:
        if subscription is not None:
            return _finish(message, subscription, Outcome(None, 0, error=str(exc)), final=True)
        return None
    if subscription is None or text is None:
        logger.info("dropping a delivery whose subscription or event is gone", extra={"eventId": message.event_id})
        return None
    if not subscription.get("active"):
        outcome = Outcome(None, 0, error=f"subscription is {subscription.get('status', 'inactive')}")
        return _finish(message, subscription, outcome, final=True)
    body = text.encode()
    destination = target.of(subscription)
    if isinstance(destination, WebhookDestination):
        refs = service.active_secret_refs(subscription, datetime.now(UTC))
        secret_values = [signing_secrets.read(message.tenant_id, ref) for ref in refs]
        headers = signing.headers(message.event_id, int(now), body, secret_values)
        headers["X-Retry-Count"] = str(message.attempt - 1)
        timeout = get_outbound_settings().timeout_seconds
        outcome = _send(message, "webhook", lambda: sender.post(destination.url, body, headers, timeout))
    else:
        envelope = target.envelope(message, body)
        outcome = _send(message, destination.type, lambda: delivery.send(destination, envelope))
    usage = stats.for_subscription(message.tenant_id, message.subscription_id)
    stats.record(usage.timed("out", outcome.succeeded, outcome.latency_ms))
    return _finish(message, subscription, outcome, final=outcome.status_code == 410 and destination.type == "webhook")


def _send(message: DispatchMessage, call: str, send: Callable[[], Outcome]) -> Outcome:
    """One POST or AWS write, in an X-Ray subsegment named ``webhook`` or the destination's type
    (``chalicelib.core.tracing``); the event type is metadata, since a tenant's own types are not a bounded set."""
    annotations: dict[str, tracing.Annotation] = {"call": call, "attempt": message.attempt}
    ids = {"subscriptionId": message.subscription_id, "eventId": message.event_id, "eventType": message.event_type}
    with tracing.subsegment(call, annotations, ids) as span:
        outcome = send()
        result = "succeeded" if outcome.succeeded else "refused" if outcome.refused else "failed"
        span.finish(result, outcome.status_code, no_answer=outcome.status_code is None and not outcome.refused)
    return outcome


def _finish(message: DispatchMessage, subscription: Item, outcome: Outcome, *, final: bool) -> float | None:
    now = time.time()
    delay = (
        None
        if outcome.succeeded or final
        else retry.next_delay(message.attempt, outcome.status_code, outcome.retry_after)
    )
    if outcome.succeeded:
        status = AttemptStatus.SUCCEEDED
    else:
        status = AttemptStatus.FAILED if delay is None else AttemptStatus.RETRYING
    attempt = Attempt(
        attempt_id=new_id("att"),
        subscription_id=message.subscription_id,
        event_id=message.event_id,
        event_type=message.event_type,
        attempt=message.attempt,
        status=status,
        attempted_at=now_text(),
        status_code=outcome.status_code,
        latency_ms=outcome.latency_ms,
        response_body=outcome.response_body,
        error=outcome.error,
        next_retry_at=from_epoch(now + delay) if delay is not None else None,
    )
    ordered = message.message_group is not None  # an ordered retry is the same message, held (outbound/ordered.py)
    if delay is not None and not ordered:
        queue.send_delayed(message.model_copy(update={"attempt": message.attempt + 1, "due_at": now + delay}), delay)
    elif status is AttemptStatus.FAILED:
        queue.send_dead_letter(message, outcome.error or f"HTTP {outcome.status_code}")
    first_try = status is AttemptStatus.SUCCEEDED and message.attempt == 1
    _record(message, attempt, deliveries.first_try_key_of(message) if first_try else None)
    live.push_attempt(message.tenant_id, attempt)  # never raises: a failed push cannot change the outcome
    metrics.count(
        "DeliveryAttempted", outcome="succeeded" if outcome.succeeded else "failed"
    )  # DispatchFailureRateAlarm
    logger.info(
        "webhook attempt",
        extra={
            "subscriptionId": message.subscription_id,
            "eventId": message.event_id,
            "attempt": message.attempt,
            "status": status.value,
            "statusCode": outcome.status_code,
            "latencyMs": outcome.latency_ms,
        },
    )
    _track_health(message, subscription, outcome)
    return delay if ordered else None


def _record(message: DispatchMessage, attempt: Attempt, first_try_key: str | None) -> None:
    """Record a sent attempt (a fan-out delivery's first-try success under ``first_try_key``, as one item),
    trying again after jittered pauses before giving up.

    Until the record is written a copy of the message would send again (the at-least-once window), so a
    record that failed after botocore's own retries is worth a few more seconds, not a resend.
    """
    for tries in range(RECORD_TRIES):
        try:
            store.record_attempt(message.tenant_id, attempt, message.delivery_id, first_try_key=first_try_key)
            return
        except (BotoCoreError, ClientError):
            if tries == RECORD_TRIES - 1:
                raise
            logger.warning("recording a sent attempt failed; trying again", extra={"eventId": message.event_id})
            time.sleep(backoff.pause(tries, base=RECORD_PAUSE_SECONDS, cap=2.0))


def _track_health(message: DispatchMessage, subscription: Item, outcome: Outcome) -> None:
    """Best effort: a failure here must not redeliver a record whose follow-up is enqueued."""
    tenant_id, subscription_id = message.tenant_id, message.subscription_id
    try:
        if outcome.succeeded:
            if "failingSince" in subscription:
                store.clear_failing(tenant_id, subscription_id)
            return
        if not subscription.get("active"):
            return
        if outcome.status_code == 410 and target.is_webhook(subscription):
            service.disable(tenant_id, subscription, "the endpoint answered 410 Gone")
            return
        since = subscription.get("failingSince") or store.mark_failing(tenant_id, subscription_id, now_text())
        failing_for = (datetime.now(UTC) - parse_time(since)).total_seconds()
        if failing_for >= get_outbound_settings().disable_after_seconds:
            service.disable(tenant_id, subscription, f"deliveries have failed since {since}")
    except Exception:
        logger.exception("could not update the subscription's failure state", extra={"subscriptionId": subscription_id})
