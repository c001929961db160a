"""Counters written as CloudWatch EMF on stdout: CloudWatch reads them from the logs, no AWS call is made."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit, single_metric

NAMESPACE = "IntegrationPlatform"


def count(name: str, **dimensions: str) -> None:
    """One occurrence of ``name``; keep dimensions low-cardinality (a provider key, a queue), never an id."""
    with single_metric(name=name, unit=MetricUnit.Count, value=1, namespace=NAMESPACE) as metric:
        for dimension, value in dimensions.items():
            metric.add_dimension(name=dimension, value=value)
