"""The run record (004 shape plus ``parameters`` and ``result`` or ``error``) and the run API shapes."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field

from chalicelib.adapters.models import OperationSpec
from chalicelib.core.models import JsonObject, RequestModel, WireModel
from chalicelib.core.timestamps import Timestamp


class RunStatus(StrEnum):
    PENDING = "Pending"
    RUNNING = "Running"
    COMPLETED = "Completed"
    FAILED = "Failed"
    CANCELLED = "Cancelled"


FINAL_STATUSES = frozenset({RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED})


class RunError(WireModel):
    """Why a run failed: a platform code (``EXTERNAL_SERVICE_ERROR`` 502, ``EXTERNAL_SERVICE_TIMEOUT`` 504, ...)
    with its HTTP-equivalent ``status``, and the vendor's own status when the vendor answered."""

    code: str
    message: str
    status: int | None = None
    vendor_status: int | None = None


class Run(WireModel):
    run_id: str
    tenant_id: str
    connection_id: str
    operation: str
    status: RunStatus
    attempts: int = 0
    created_at: Timestamp
    started_at: Timestamp | None = None
    completed_at: Timestamp | None = None
    provider_id: str | None = None
    parameters: dict[str, Any] | None = None
    result: Any = None
    result_truncated: bool | None = None
    partial_result: Any = None
    # A message's delivery status from the vendor's notifications (chalicelib.inbound.delivery_status).
    delivery: dict[str, Any] | None = None
    error: RunError | None = None
    # A run a schedule fired (chalicelib.schedules.firing): which schedule, and the firing time it stands for.
    schedule_id: str | None = None
    scheduled_time: Timestamp | None = None
    trace_id: str | None = None


class ExecuteOperationRequest(RequestModel):
    tenant_id: str | None = None
    parameters: JsonObject = Field(default_factory=dict)


class RunListQuery(WireModel):
    limit: Annotated[int, Field(ge=1, le=100)] = 20
    cursor: str | None = None
    connection_id: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    status: RunStatus | None = None


class RunList(WireModel):
    items: list[Run]
    next_cursor: str | None = None


class OperationCatalog(WireModel):
    connection_id: str
    provider_id: str
    items: list[OperationSpec]
    trace_id: str | None = None
