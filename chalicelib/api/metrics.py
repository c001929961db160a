"""``GET /metrics``: the tenant's counted numbers as a time series (docs/observability.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import Blueprint

from chalicelib.api.routing import Call, endpoint

if TYPE_CHECKING:
    from chalicelib.stats.models import MetricsSeries

metrics = Blueprint(__name__)


@endpoint(
    metrics,
    "/metrics",
    "GET",
    summary="Inbound, outbound and run numbers by minute, hour or day, for the tenant, a connection or a subscription",
    tag="Metrics",
    scope="metrics.read",
    query="chalicelib.stats.models.MetricsQuery",
    response="chalicelib.stats.models.MetricsSeries",
    errors=(400, 404),
)
def get_metrics(call: Call) -> MetricsSeries:
    from chalicelib.stats import service

    return service.metrics(call.tenant_id, call.query)
