"""The counter of rejected deliveries, written as CloudWatch EMF on stdout (no AWS call)."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit, single_metric

NAMESPACE = "IntegrationPlatform"


def count_rejection(provider_key: str, scheme: str) -> None:
    with single_metric(name="InboundSignatureRejected", unit=MetricUnit.Count, value=1, namespace=NAMESPACE) as metric:
        metric.add_dimension(name="provider", value=provider_key)
        metric.add_dimension(name="scheme", value=scheme)
