"""``GET /metrics``: the subject is checked to be the caller's before its series is read."""

from __future__ import annotations

from chalicelib.connections import store as connections
from chalicelib.core.errors import NotFound
from chalicelib.outbound import service as subscriptions
from chalicelib.stats import read
from chalicelib.stats.models import MetricsQuery, MetricsSeries


def metrics(tenant_id: str, query: MetricsQuery) -> MetricsSeries:
    """Another tenant's (or an unknown) id is a 404, as on every other route, not an empty series."""
    read.window(query)  # a bad window is a 400 before any read
    if query.connection_id is not None and connections.get_item(tenant_id, query.connection_id) is None:
        raise NotFound(f"Connection '{query.connection_id}' was not found.")
    if query.subscription_id is not None:
        subscriptions.get_item(tenant_id, query.subscription_id)  # raises NotFound
    return read.series(tenant_id, query)
