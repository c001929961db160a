"""The run record (004 shape plus ``result`` or ``error``)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from chalicelib.core.models import WireModel


class RunStatus(StrEnum):
    PENDING = "Pending"
    RUNNING = "Running"
    COMPLETED = "Completed"
    FAILED = "Failed"
    CANCELLED = "Cancelled"


FINAL_STATUSES = frozenset({RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED})


class RunError(WireModel):
    code: str
    message: str
    vendor_status: int | None = None


class Run(WireModel):
    run_id: str
    tenant_id: str
    connection_id: str
    operation: str
    status: RunStatus
    attempts: int = 0
    created_at: str
    started_at: str | None = None
    completed_at: str | None = None
    result: Any = None
    result_truncated: bool | None = None
    error: RunError | None = None
    trace_id: str | None = None
