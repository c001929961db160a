"""Counters written as CloudWatch EMF on stdout: CloudWatch reads them from the logs, no AWS call is made.

Powertools' metrics are imported on the first count, not at import: the functions
that count do so on rare paths (a dead letter, a rejected event), and the import
would otherwise weigh on every cold start (docs/performance.md "Cold start and package").
"""

from __future__ import annotations

NAMESPACE = "IntegrationPlatform"


def count(name: str, **dimensions: str) -> None:
    """One occurrence of ``name``; keep dimensions low-cardinality (a provider key, a queue), never an id."""
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    with single_metric(name=name, unit=MetricUnit.Count, value=1, namespace=NAMESPACE) as metric:
        for dimension, value in dimensions.items():
            metric.add_dimension(name=dimension, value=value)
