"""Starting, reading, listing and cancelling runs.

``start`` validates everything a caller can get wrong (connection, operation,
status, parameters, a usable credential) before it writes the run and enqueues it, so a 202 always
names a run the worker can execute. ``Idempotency-Key`` is mostly the route's concern
(``endpoint(idempotent=True)``): a repeat is answered with the first 202 before
this module is reached. When the first answer was never recorded (its record
failed to save, or the Lambda died after writing the run), the keyed run id
finds the run instead: it is answered again and queued again while Pending, as
the first attempt may have died before its send. A second message for one run
is harmless: only the message that claims it (Pending -> Running) executes it.
"""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.base import Adapter
from chalicelib.adapters.registry import adapter_for
from chalicelib.connections import secret
from chalicelib.connections import service as connections
from chalicelib.connections.models import Connection, ConnectionStatus
from chalicelib.core.context import current_trace_id
from chalicelib.core.errors import Conflict, NotFound, ServiceUnavailable
from chalicelib.core.ids import new_id
from chalicelib.core.logging import logger
from chalicelib.core.timestamps import now_text
from chalicelib.providers import service as providers
from chalicelib.runs import queue, store
from chalicelib.runs.models import OperationCatalog, Run, RunError, RunListQuery, RunStatus


def get(tenant_id: str, run_id: str) -> Run:
    run = store.get(tenant_id, run_id)
    if run is None:
        raise NotFound(f"Run '{run_id}' was not found.")
    return run


def list_page(tenant_id: str, query: RunListQuery) -> tuple[list[Run], str | None]:
    return store.list_page(tenant_id, query.limit, query.cursor, query.connection_id, query.status)


def _adapter(tenant_id: str, connection: Connection) -> Adapter:
    return adapter_for(providers.get(tenant_id, connection.provider_id)).with_tools(connection.discovered_tools)


def catalog(tenant_id: str, connection_id: str) -> OperationCatalog:
    connection = connections.get(tenant_id, connection_id)
    items = _adapter(tenant_id, connection).operations()
    return OperationCatalog(connection_id=connection_id, provider_id=connection.provider_id, items=items)


def start(
    tenant_id: str, connection_id: str, operation: str, parameters: dict[str, Any], run_id: str | None = None
) -> tuple[Run, bool]:
    """The run, and whether this call created it; ``run_id`` is a keyed request's (``Call.keyed_id``)."""
    if run_id is not None:
        existing = store.get(tenant_id, run_id)
        if existing is not None:
            return _queued_again(existing), False
    connection = connections.get(tenant_id, connection_id)
    adapter = _adapter(tenant_id, connection)
    spec = adapter.operation(operation)
    validated = spec.validate(parameters).model_dump(mode="json", by_alias=True, exclude_none=True)
    if connection.status != ConnectionStatus.ACTIVE:
        raise Conflict(f"Connection '{connection_id}' is {connection.status}; runs need an Active connection.")
    secret.credential(connection)  # an unusable secret is the caller's 409 now, not a Failed run later
    run = Run(
        run_id=run_id or new_id("run"),
        tenant_id=tenant_id,
        connection_id=connection_id,
        operation=operation,
        status=RunStatus.PENDING,
        created_at=now_text(),
        provider_id=connection.provider_id,
        parameters=validated,
        trace_id=current_trace_id(),
    )
    if not store.insert(run):
        existing = store.get(tenant_id, run.run_id) if run_id is not None else None
        if existing is None:
            raise ServiceUnavailable("The run could not be recorded; retry the request.")
        return _queued_again(existing), False  # a concurrent request with the same key wrote it first
    _enqueue_or_fail(run, keyed=run_id is not None)
    return run, True


def _queued_again(run: Run) -> Run:
    """A keyed run found again: a Pending one is sent again (the first send may never have happened)."""
    if run.status == RunStatus.PENDING:
        _enqueue_or_fail(run, keyed=True)
    return run


def _enqueue_or_fail(run: Run, *, keyed: bool) -> None:
    """Queue the run; if that fails, answer 503.

    A keyed run stays Pending for the repeat with the same key to queue (or the sweeper, if none comes); any
    other run is failed first, since its caller's retry makes a new run and the sweeper must not run this one.
    """
    try:
        queue.enqueue(queue.RunMessage(tenant_id=run.tenant_id, run_id=run.run_id, trace_id=run.trace_id))
    except Exception as exc:
        logger.exception("enqueueing run failed", extra={"runId": run.run_id})
        if keyed:
            raise ServiceUnavailable(
                "The run could not be queued; repeat the request with the same Idempotency-Key."
            ) from exc
        error = RunError(code="SERVICE_UNAVAILABLE", message="The run could not be queued.", status=503)
        store.transition(
            run.tenant_id,
            run.run_id,
            {"status": RunStatus.FAILED.value, "completedAt": now_text(), "error": error.model_dump(by_alias=True)},
            from_status=RunStatus.PENDING,
        )
        raise ServiceUnavailable("The run could not be queued; retry the request.") from exc


def cancel(tenant_id: str, run_id: str) -> Run:
    """Only a run no worker has started can be cancelled; cancelling a cancelled run is a no-op."""
    cancelled = store.transition(
        tenant_id,
        run_id,
        {"status": RunStatus.CANCELLED.value, "completedAt": now_text()},
        from_status=RunStatus.PENDING,
    )
    if cancelled is not None:
        return cancelled
    run = get(tenant_id, run_id)
    if run.status == RunStatus.CANCELLED:
        return run
    raise Conflict(f"Run '{run_id}' is {run.status}; only a Pending run can be cancelled.")
