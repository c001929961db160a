"""The schedule resource and its request shapes."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import ConfigDict, Field, model_validator

from chalicelib.core.models import JsonObject, RequestModel, WireModel, exactly_one_of
from chalicelib.core.timestamps import Timestamp


class ScheduleState(StrEnum):
    ENABLED = "Enabled"
    PAUSED = "Paused"


class PausedBy(StrEnum):
    """Who paused a schedule: a caller's pause outlives a connection's reactivation, the connection's does not."""

    CALLER = "Caller"
    CONNECTION = "Connection"


class CreateScheduleRequest(RequestModel):
    """Exactly one of ``rate`` (``"5 minutes"``) or ``cron`` (EventBridge's six fields, evaluated in ``timezone``)."""

    model_config = ConfigDict(json_schema_extra=exactly_one_of("rate", "cron"))

    tenant_id: str | None = None
    operation: Annotated[str, Field(min_length=1, max_length=100)]
    parameters: JsonObject = Field(default_factory=dict)
    rate: Annotated[str, Field(max_length=40, examples=["5 minutes"])] | None = None
    cron: Annotated[str, Field(max_length=200, examples=["0 9 ? * MON-FRI *"])] | None = None
    timezone: Annotated[str, Field(max_length=64, examples=["Europe/Paris"])] = "UTC"
    description: Annotated[str, Field(max_length=500)] | None = None

    @model_validator(mode="after")
    def _one_expression(self) -> CreateScheduleRequest:
        if (self.rate is None) == (self.cron is None):
            raise ValueError("give exactly one of rate or cron")
        return self


class Schedule(WireModel):
    schedule_id: str
    tenant_id: str
    connection_id: str
    operation: str
    parameters: dict[str, Any] = Field(default_factory=dict)
    rate: str | None = None
    cron: str | None = None
    timezone: str = "UTC"
    description: str | None = None
    state: ScheduleState
    paused_by: PausedBy | None = None
    created_at: Timestamp
    updated_at: Timestamp
    last_run_id: str | None = None
    last_scheduled_time: Timestamp | None = None
    trace_id: str | None = None


class ScheduleList(WireModel):
    items: list[Schedule]
    next_cursor: str | None = None


class ScheduleListQuery(WireModel):
    limit: Annotated[int, Field(ge=1, le=100)] = 20
    cursor: str | None = None


class ScheduleDeleted(WireModel):
    schedule_id: str
    deleted: bool = True
    trace_id: str | None = None
