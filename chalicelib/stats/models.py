"""The wire shapes of the numbers: a connection's or subscription's ``stats``, health ``metrics``, ``GET /metrics``.

Rates are fractions (0.75, not 75): 001 prints percentages, but a fraction is what a
client computes with. A rate or latency is absent when nothing was counted, so "no
traffic" never reads as "0 % success".
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, model_validator

from chalicelib.core.models import WireModel
from chalicelib.core.timestamps import Timestamp

Granularity = Literal["minute", "hour", "day"]


class UsageStats(WireModel):
    """``stats`` on a connection (vendor calls) or a subscription (delivery attempts), over ``windowDays``."""

    window_days: int
    total_calls: int
    failed_calls: int
    success_rate: float | None = None
    average_response_time_ms: int | None = None
    p50_response_time_ms: int | None = None
    p95_response_time_ms: int | None = None
    last_used_at: Timestamp | None = None


class HealthMetrics(WireModel):
    """001's health ``metrics``: the connection's vendor calls over the last 24 hours."""

    # to_camel would say "successRate24H"; 001 says success_rate_24h, so successRate24h.
    success_rate_24h: float | None = Field(default=None, alias="successRate24h")
    average_latency_ms: int | None = None
    error_rate: float | None = None
    total_calls_24h: int = Field(default=0, alias="totalCalls24h")


class InboundPoint(WireModel):
    accepted: int = 0
    rejected: int = 0
    duplicate: int = 0


class OutboundPoint(WireModel):
    delivered: int = 0
    failed: int = 0
    average_latency_ms: int | None = None
    p95_latency_ms: int | None = None


class RunsPoint(WireModel):
    completed: int = 0
    failed: int = 0
    average_latency_ms: int | None = None
    p95_latency_ms: int | None = None


class CallsPoint(WireModel):
    total: int = 0
    failed: int = 0
    average_latency_ms: int | None = None
    p95_latency_ms: int | None = None


class MetricsPoint(WireModel):
    timestamp: Timestamp
    inbound: InboundPoint
    outbound: OutboundPoint
    runs: RunsPoint
    calls: CallsPoint


class MetricsQuery(WireModel):
    """``GET /metrics``: one series (a connection's, a subscription's) or the tenant's, over [from, to)."""

    connection_id: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    subscription_id: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    granularity: Granularity = "hour"
    start: AwareDatetime | None = Field(default=None, alias="from")
    end: AwareDatetime | None = Field(default=None, alias="to")

    @model_validator(mode="after")
    def _one_subject(self) -> MetricsQuery:
        if self.connection_id is not None and self.subscription_id is not None:
            raise ValueError("give connectionId or subscriptionId, not both")
        return self


class MetricsSeries(WireModel):
    granularity: Granularity
    start: Timestamp = Field(alias="from")
    end: Timestamp = Field(alias="to")
    connection_id: str | None = None
    subscription_id: str | None = None
    points: list[MetricsPoint]
    trace_id: str | None = None
