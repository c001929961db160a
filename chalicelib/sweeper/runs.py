"""Runs past their in-flight deadline: re-queued while they may still succeed, else failed with the reason.

- Pending past ``RUN_PENDING_DEADLINE_SECONDS`` (written but never queued, or the
  message was lost): re-queued up to ``RUN_MAX_REQUEUES`` times, then Failed
  ``RUN_NOT_STARTED``.
- Running past ``RUN_RUNNING_DEADLINE_SECONDS`` from its claim (the worker's
  invocation died, so no live invocation holds it): moved back to Pending and
  re-queued while attempts are left (the claim counts the next attempt), else
  Failed ``RUN_ABANDONED``.

Each move is conditional on the run as read (status, attempts, owner), so a
worker that finishes meanwhile wins, and a late redelivery of the old message
finds the run Pending (and claims it) or owned by the new message (and leaves
it).
"""

from __future__ import annotations

from typing import Any

from chalicelib.core import inflight
from chalicelib.core.config import get_settings
from chalicelib.core.logging import logger
from chalicelib.runs import queue, store, worker
from chalicelib.runs.models import RunError, RunStatus


def table() -> str:
    return store.TABLE.name


def handle(key: dict[str, Any], now: float) -> str | None:
    stored = store.get_stored(key["tenantId"], key["runId"])
    if stored is None or stored.deadline is None or stored.deadline >= now:
        return None  # finished, or its deadline moved since the index was read
    if stored.run.status == RunStatus.PENDING:
        return _pending(stored, now)
    if stored.run.status == RunStatus.RUNNING:
        return _running(stored, now)
    return None


def _requeue(stored: store.StoredRun, changes: dict[str, Any], now: float) -> bool:
    run = stored.run
    changes = changes | {inflight.DEADLINE: inflight.deadline(get_settings().run_pending_deadline_seconds, now)}
    moved = store.transition(
        run.tenant_id,
        run.run_id,
        changes,
        from_status=run.status,
        owner_message_id=stored.owner_message_id if run.status == RunStatus.RUNNING else None,
        attempts=run.attempts,
    )
    if moved is None:
        return False
    queue.enqueue(queue.RunMessage(tenant_id=run.tenant_id, run_id=run.run_id, trace_id=run.trace_id))
    return True


def _pending(stored: store.StoredRun, now: float) -> str | None:
    settings = get_settings()
    run = stored.run
    if stored.requeues < settings.run_max_requeues:
        if not _requeue(stored, {"requeues": stored.requeues + 1}, now):
            return None
        logger.warning(
            "run never started; re-queued",
            extra={"runId": run.run_id, "tenantId": run.tenant_id, "requeue": stored.requeues + 1},
        )
        return "requeued"
    waited = settings.run_pending_deadline_seconds * (stored.requeues + 1)
    error = RunError(
        code="RUN_NOT_STARTED",
        message=(
            f"No worker started the run in about {waited:.0f} s, after {stored.requeues} re-queues; the runs queue "
            "or its worker is unavailable. Nothing reached the vendor; start the run again when runs are processed."
        ),
        status=503,
    )
    return "failed" if worker.fail(run, error, attempts=run.attempts) else None


def _running(stored: store.StoredRun, now: float) -> str | None:
    settings = get_settings()
    run = stored.run
    if run.attempts < settings.run_max_attempts:
        if not _requeue(stored, {"status": RunStatus.PENDING.value}, now):
            return None
        logger.warning(
            "run stalled while Running; re-queued",
            extra={"runId": run.run_id, "tenantId": run.tenant_id, "attempt": run.attempts},
        )
        return "requeued"
    error = RunError(
        code="RUN_ABANDONED",
        message=(
            f"Attempt {run.attempts} of {settings.run_max_attempts} recorded no result within "
            f"{settings.run_running_deadline_seconds:.0f} s and no attempts are left. The vendor may have applied it "
            "(each attempt sends the run id as its idempotency key); check the vendor before starting the run again."
        ),
        status=500,
    )
    failed = worker.fail(run, error, owner_message_id=stored.owner_message_id, attempts=run.attempts)
    return "failed" if failed else None
