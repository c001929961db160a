"""The runs queue consumer and its dead-letter handler.

Each message names a run. The worker claims it with a conditional update
(Pending -> Running, ``attempts`` + 1, ``ownerMessageId`` = this message), calls
the vendor, and finishes it with another conditional update (Running ->
Completed | Failed). A redelivery of the owning message (a crashed worker, or a
retry we postponed) re-executes with the run id as the vendor idempotency key;
any other message for a run that is already Running, or finished, is
acknowledged without work. Retries are SQS redeliveries: the record's
visibility is set to the backoff and the record is reported failed.

Every status change that starts or ends a run is one transaction with its
event (``RunStarted``, ``RunCompleted``, ``RunFailed``), so no run finishes
unannounced. Pointing the connection at its latest run (``lastRunId``) is
idempotent and repeated when the owning message is seen again.

While a run is Running its ``inflightDeadline`` is the worker's lambda timeout
plus a margin from the claim (``RUN_RUNNING_DEADLINE_SECONDS``), pushed out by
the backoff when a retry is scheduled; past it the sweeper
(``chalicelib.sweeper.runs``) re-queues or fails the run. An AWS error while
driving a run is logged with the run id before the message goes back to SQS.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from chalicelib.core import inflight
from chalicelib.core.batch import SqsRecord, handle_in_turn
from chalicelib.core.config import get_settings
from chalicelib.core.context import set_trace_id
from chalicelib.core.logging import logger
from chalicelib.core.timestamps import now_text
from chalicelib.events import catalog
from chalicelib.events.emit import commit, new_event
from chalicelib.events.models import PlatformEvent
from chalicelib.runs import queue, store
from chalicelib.runs.models import FINAL_STATUSES, Run, RunError, RunStatus
from chalicelib.runs.progress import PartialWriter
from chalicelib.stats import record as stats

EVENT_TYPES = {
    RunStatus.RUNNING: catalog.RUN_STARTED,
    RunStatus.COMPLETED: catalog.RUN_COMPLETED,
    RunStatus.FAILED: catalog.RUN_FAILED,
}


class RetryScheduled(Exception):
    """Reported to the batch processor so SQS keeps the message; its visibility is already the backoff."""


def handle_runs(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    # A batch whose every record is postponed is a normal outcome here, not an error to raise.
    with stats.collecting():  # the batch's counts, summed: written per connection at most every few seconds
        return handle_in_turn(event, _run_record, raise_on_entire_batch_failure=False)


def handle_dead_letters(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    with stats.collecting():
        return handle_in_turn(event, _dead_record, raise_on_entire_batch_failure=False)


def _run_record(record: SqsRecord) -> None:
    message = queue.parse(record.body) or _scheduled(record)
    if message is None:
        return
    if message.trace_id:
        set_trace_id(message.trace_id)
    try:
        retry_in = process(message.tenant_id, message.run_id, record.message_id)
    except Exception:
        # Nothing else records why: SQS redelivers the message, and the run may end in the sweeper or the DLQ.
        logger.exception("driving a run failed; SQS redelivers it", extra={"runId": message.run_id})
        raise
    if retry_in is not None:
        queue.postpone(record.receipt_handle, retry_in)
        raise RetryScheduled(f"run {message.run_id} retries in {retry_in}s")


def _scheduled(record: SqsRecord) -> queue.RunMessage | None:
    """A Scheduler firing names no run yet: write its run (once per scheduled time) and drive that."""
    from chalicelib.schedules import firing  # only a firing needs the schedules modules

    fired = firing.parse(record.body)
    if fired is None:
        logger.error("discarding a runs message that names no run", extra={"messageId": record.message_id})
        return None
    run_id = firing.materialize(fired)
    if run_id is None:
        return None
    return queue.RunMessage(tenant_id=fired.tenant_id, run_id=run_id)


def process(tenant_id: str, run_id: str, message_id: str) -> int | None:
    """Drive one run as far as this message may; the seconds until a retry, or ``None`` when done."""
    run = claim(tenant_id, run_id, message_id)
    if run is None:
        return None
    # The vendor side (adapters, credentials, protection) loads once a run is claimed, not with the module:
    # the dead-letter function and the sweeper import this module and never call a vendor.
    from chalicelib.runs import execution

    outcome = execution.execute(run, PartialWriter(run, message_id))
    if outcome.retry_in is not None and outcome.free:
        _wait_for_token(run, message_id, outcome.retry_in)
        return None
    usage = stats.for_connection(tenant_id, run.connection_id)
    if outcome.latency_ms is not None:
        usage.timed("call", outcome.error is None and outcome.retry_in is None, outcome.latency_ms)
    if outcome.retry_in is not None:
        stats.record(usage)
        logger.info("run attempt failed; retrying", extra={"runId": run_id, "attempt": run.attempts})
        later = {inflight.DEADLINE: _running_deadline(outcome.retry_in)}
        store.transition(
            tenant_id, run_id, later, from_status=RunStatus.RUNNING, owner_message_id=message_id, attempts=run.attempts
        )
        return outcome.retry_in
    changes: dict[str, Any] = {"completedAt": now_text()}
    if outcome.error is not None:
        changes |= {"status": RunStatus.FAILED.value, "error": outcome.error.model_dump(by_alias=True)}
    else:
        changes |= {"status": RunStatus.COMPLETED.value, "result": outcome.result}
        if outcome.truncated:
            changes["resultTruncated"] = True
    finished = _move(run, changes, from_status=RunStatus.RUNNING, owner_message_id=message_id, attempts=run.attempts)
    if finished is not None:
        usage.timed("run", outcome.error is None, run_duration_ms(finished))
        announce(finished)
    stats.record(usage)
    return None


def _wait_for_token(run: Run, message_id: str, seconds: int) -> None:
    """The vendor's rate limit held the call back: the run goes back to Pending with its attempt given back, and
    a new message, delayed until the token is due, drives it. Postponing this message instead would spend one of
    the queue's ``maxReceiveCount`` deliveries per wait and dead-letter a run that never failed. A crash between
    the two leaves a Pending run the sweeper re-queues."""
    changes = {
        "status": RunStatus.PENDING.value,
        "attempts": run.attempts - 1,
        inflight.DEADLINE: inflight.deadline(seconds + get_settings().run_pending_deadline_seconds),
    }
    moved = store.transition(
        run.tenant_id,
        run.run_id,
        changes,
        from_status=RunStatus.RUNNING,
        owner_message_id=message_id,
        attempts=run.attempts,
    )
    if moved is not None:
        logger.info("run waits for the vendor's rate limit", extra={"runId": run.run_id, "seconds": seconds})
        queue.enqueue(queue.RunMessage(tenant_id=run.tenant_id, run_id=run.run_id, trace_id=run.trace_id), seconds)


def claim(tenant_id: str, run_id: str, message_id: str) -> Run | None:
    """Move the run to Running for this message (or count a redelivery's attempt); ``None`` if not ours to run."""
    stored = store.get_stored(tenant_id, run_id)
    if stored is None:
        logger.warning("runs message for an unknown run", extra={"runId": run_id})
        return None
    run = stored.run
    if run.status in FINAL_STATUSES:
        if run.status != RunStatus.CANCELLED and stored.owner_message_id == message_id:
            announce(run)
        return None
    started: dict[str, Any] = {"attempts": run.attempts + 1, inflight.DEADLINE: _running_deadline()}
    if run.status == RunStatus.PENDING:
        started |= {"status": RunStatus.RUNNING.value, "startedAt": now_text(), "ownerMessageId": message_id}
        # A run that started before (re-queued by the sweeper, or waiting for the rate limit) was announced then.
        return _move(run, started, from_status=RunStatus.PENDING, announced=run.started_at is not None)
    if stored.owner_message_id != message_id:
        return None  # a duplicate message; the owning message finishes this run
    if run.attempts >= get_settings().run_max_attempts:
        _fail_abandoned(run, "The run's attempts are exhausted.", owner_message_id=message_id)
        return None
    return store.transition(
        tenant_id, run_id, started, from_status=RunStatus.RUNNING, owner_message_id=message_id, attempts=run.attempts
    )


def _running_deadline(backoff: float = 0) -> float:
    return inflight.deadline(backoff + get_settings().run_running_deadline_seconds)


def _dead_record(record: SqsRecord) -> None:
    message = queue.parse(record.body)
    if message is None:
        return
    run = store.get(message.tenant_id, message.run_id)
    if run is None or run.status in FINAL_STATUSES:
        return
    _fail_abandoned(run, "The run's message exhausted its deliveries before the run finished.")


def _fail_abandoned(run: Run, message: str, owner_message_id: str | None = None) -> None:
    fail(run, RunError(code="RUN_ABANDONED", message=message, status=500), owner_message_id=owner_message_id)


def fail(run: Run, error: RunError, *, owner_message_id: str | None = None, attempts: int | None = None) -> bool:
    """Fail a run that is still as read (status, owner, attempts) with a reason, log it, and announce it."""
    changes = {"status": RunStatus.FAILED.value, "completedAt": now_text(), "error": error.model_dump(by_alias=True)}
    failed = _move(run, changes, from_status=run.status, owner_message_id=owner_message_id, attempts=attempts)
    if failed is None:
        return False
    stats.record(stats.for_connection(run.tenant_id, run.connection_id).timed("run", False, run_duration_ms(failed)))
    logger.warning(
        "run failed without a result",
        extra={"runId": run.run_id, "tenantId": run.tenant_id, "code": error.code, "reason": error.message},
    )
    announce(failed)
    return True


def _move(
    run: Run,
    changes: dict[str, Any],
    *,
    from_status: RunStatus,
    owner_message_id: str | None = None,
    attempts: int | None = None,
    announced: bool = False,
) -> Run | None:
    """One conditional status change and, when it starts or ends the run, its event: one transaction.

    ``announced``: the change repeats one already announced (a second start), so it carries no event."""
    entry = store.transition_entry(
        run.tenant_id,
        run.run_id,
        changes,
        from_status=from_status,
        owner_message_id=owner_message_id,
        attempts=attempts,
    )
    moved = Run.model_validate(run.model_dump(by_alias=True) | changes)
    if not commit(entry, run_event(moved) if moved.status != from_status and not announced else None):
        return None
    return moved


def run_duration_ms(run: Run) -> int:
    """From the first claim to the finish (retries and their backoff included); 0 if it never started."""
    if run.started_at is None or run.completed_at is None:
        return 0
    return max(
        0,
        round(
            (datetime.fromisoformat(run.completed_at) - datetime.fromisoformat(run.started_at)).total_seconds() * 1000
        ),
    )


def event_id(run_id: str, status: RunStatus) -> str:
    return "evt-" + hashlib.sha256(f"{run_id}:{status.value}".encode()).hexdigest()[:24]


def run_event(run: Run) -> PlatformEvent | None:
    """``RunStarted`` (first start only), ``RunCompleted`` or ``RunFailed``, with an id fixed by the run and status.

    A run the sweeper put back to Pending starts again without a second ``RunStarted``.
    """
    event_type = EVENT_TYPES.get(run.status)
    if event_type is None or (run.status == RunStatus.RUNNING and run.attempts > 1):
        return None
    data: dict[str, Any] = {
        "runId": run.run_id,
        "connectionId": run.connection_id,
        "operation": run.operation,
        "status": run.status.value,
        "attempts": run.attempts,
        "startedAt": run.started_at,
        "completedAt": run.completed_at,
    }
    if run.error is not None:
        data["error"] = run.error.model_dump(by_alias=True, exclude_none=True)
    if run.schedule_id is not None:
        data |= {"scheduleId": run.schedule_id, "scheduledTime": run.scheduled_time}
    return new_event(run.tenant_id, event_type, data, source="runs", event_id=event_id(run.run_id, run.status))


def announce(run: Run) -> None:
    """Point the connection at its latest finished run; safe to repeat (conditional update)."""
    from chalicelib.connections import store as connections  # the connection models load once a run is finished

    connections.record_last_run(run.tenant_id, run.connection_id, run.run_id, run.created_at)
