"""The outbound-dispatch SQS handler: deliver a batch concurrently, retry through SQS.

A batch's subscriptions are read with one BatchGetItem, then every record is
delivered on a shared thread pool, so ten records to a receiver that answers in
200 ms take about 200 ms. A failed delivery is not a failed record: the next
attempt is a new delayed message and the original is acknowledged. A record is
reported as a batch item failure only when the platform itself failed (AWS
errors), and then SQS redelivers just that record.

Order inside a record: send, record the attempt, then enqueue the follow-up
(retry or dead letter). If recording fails the original comes back and is sent
again (at least once); a follow-up is never enqueued twice for one attempt.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from chalicelib.core import metrics, tracing
from chalicelib.core.batch import SqsRecord, handle_concurrently, pool
from chalicelib.core.dynamo import Item
from chalicelib.core.ids import new_id
from chalicelib.core.logging import logger
from chalicelib.core.timestamps import from_epoch, now_text, parse_time
from chalicelib.events import store as events
from chalicelib.live import push as live
from chalicelib.outbound import fanout, queue, retry, sender, service, signing, store, transforms
from chalicelib.outbound import secrets as signing_secrets
from chalicelib.outbound.config import get_outbound_settings
from chalicelib.outbound.models import Attempt, AttemptStatus, DispatchMessage
from chalicelib.stats import record as stats

NOT_DUE_SLACK = 0.5


Parsed = dict[str, DispatchMessage | Exception]


def prepare(event: dict[str, Any]) -> tuple[Parsed, dict[tuple[str, str], Item]]:
    """Each record's message (or why it is unreadable), and every subscription they name, in one batch read."""
    parsed: Parsed = {}
    for record in event.get("Records", []):
        try:
            parsed[record["messageId"]] = DispatchMessage.model_validate_json(record["body"])
        except ValueError as exc:
            parsed[record["messageId"]] = exc
    keys = {(m.tenant_id, m.subscription_id) for m in parsed.values() if isinstance(m, DispatchMessage)}
    return parsed, store.batch_get_subscriptions(keys)


def handle(event: dict[str, Any]) -> dict[str, Any]:
    """Lambda entry: returns ``{"batchItemFailures": [...]}`` for ReportBatchItemFailures."""
    parsed, subscriptions = prepare(event)

    def run(record: SqsRecord) -> None:
        message = parsed[record.message_id]
        if isinstance(message, Exception):
            raise message
        try:
            deliver(message, subscriptions.get((message.tenant_id, message.subscription_id)))
        except Exception:
            logger.exception("dispatch record failed", extra={"messageId": record.message_id})
            raise

    executor = pool("dispatch", get_outbound_settings().max_concurrency)
    with stats.collecting():  # the batch's attempts: one stats write per (subscription, hour)
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
            return _finish(message, subscription, sender.Outcome(None, 0, error=str(exc)), final=True)
        return None
    if subscription is None or text is None:
        logger.info("dropping a delivery whose subscription or event is gone", extra={"eventId": message.event_id})
        return None
    if not subscription.get("active"):
        outcome = sender.Outcome(None, 0, error=f"subscription is {subscription.get('status', 'inactive')}")
        return _finish(message, subscription, outcome, final=True)
    body = text.encode()
    refs = service.active_secret_refs(subscription, datetime.now(UTC))
    secret_values = [signing_secrets.read(message.tenant_id, ref) for ref in refs]
    headers = signing.headers(message.event_id, int(now), body, secret_values)
    headers["X-Retry-Count"] = str(message.attempt - 1)
    outcome = _send(message, subscription["endpointUrl"], body, headers)
    usage = stats.for_subscription(message.tenant_id, message.subscription_id)
    stats.record(usage.timed("out", outcome.succeeded, outcome.latency_ms))
    return _finish(message, subscription, outcome, final=outcome.status_code == 410)


def _send(message: DispatchMessage, url: str, body: bytes, headers: dict[str, str]) -> sender.Outcome:
    """One POST, in an X-Ray subsegment ``webhook`` (``chalicelib.core.tracing``); the event type is metadata,
    since a tenant's own types are not a bounded set."""
    annotations: dict[str, tracing.Annotation] = {"call": "webhook", "attempt": message.attempt}
    ids = {"subscriptionId": message.subscription_id, "eventId": message.event_id, "eventType": message.event_type}
    with tracing.subsegment("webhook", annotations, ids) as span:
        outcome = sender.post(url, body, headers, get_outbound_settings().timeout_seconds)
        result = "succeeded" if outcome.succeeded else "refused" if outcome.refused else "failed"
        span.finish(result, outcome.status_code, no_answer=outcome.status_code is None and not outcome.refused)
    return outcome


def _finish(message: DispatchMessage, subscription: Item, outcome: sender.Outcome, *, final: bool) -> float | None:
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
    store.record_attempt(message.tenant_id, attempt, message.delivery_id)
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
    ordered = message.message_group is not None  # an ordered retry is the same message, held (outbound/ordered.py)
    if delay is not None and not ordered:
        queue.send_delayed(message.model_copy(update={"attempt": message.attempt + 1, "due_at": now + delay}), delay)
    elif status is AttemptStatus.FAILED:
        queue.send_dead_letter(message, outcome.error or f"HTTP {outcome.status_code}")
    _track_health(message, subscription, outcome)
    return delay if ordered else None


def _track_health(message: DispatchMessage, subscription: Item, outcome: sender.Outcome) -> None:
    """Best effort: a failure here must not redeliver a record whose follow-up is enqueued."""
    tenant_id, subscription_id = message.tenant_id, message.subscription_id
    try:
        if outcome.succeeded:
            if "failingSince" in subscription:
                store.clear_failing(tenant_id, subscription_id)
            return
        if not subscription.get("active"):
            return
        if outcome.status_code == 410:
            service.disable(tenant_id, subscription, "the endpoint answered 410 Gone")
            return
        since = subscription.get("failingSince") or store.mark_failing(tenant_id, subscription_id, now_text())
        failing_for = (datetime.now(UTC) - parse_time(since)).total_seconds()
        if failing_for >= get_outbound_settings().disable_after_seconds:
            service.disable(tenant_id, subscription, f"deliveries have failed since {since}")
    except Exception:
        logger.exception("could not update the subscription's failure state", extra={"subscriptionId": subscription_id})
