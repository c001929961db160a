"""``GET /metrics``: the tenant's counted numbers as a time series (docs/observability.md)."""

from __future__ import annotations

from chalice.app import Blueprint

from chalicelib.api.routing import Call, endpoint
from chalicelib.stats import service
from chalicelib.stats.models import MetricsQuery, MetricsSeries

metrics = Blueprint(__name__)


@endpoint(
    metrics,
    "/metrics",
    "GET",
    summary="Inbound, outbound and run numbers by minute, hour or day, for the tenant, a connection or a subscription",
    tag="Metrics",
    scope="metrics.read",
    query=MetricsQuery,
    response=MetricsSeries,
    errors=(400, 404),
)
def get_metrics(call: Call) -> MetricsSeries:
    return service.metrics(call.tenant_id, call.query)
