"""The environment the in-process benches run in, set before they import the app (settings are read once).

moto stands in for AWS with fixed credentials, under a prefix of its own; logs and EMF are kept quiet.
"""

from __future__ import annotations

import os

BENCH_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "STAGE": "dev",
    "RESOURCE_PREFIX": "integration-platform-bench",
    "ALLOW_INSECURE_URLS": "true",
    "POWERTOOLS_LOG_LEVEL": "ERROR",
    "POWERTOOLS_METRICS_NAMESPACE": "bench",
}


def apply(**overrides: str) -> None:
    os.environ.update(BENCH_ENVIRONMENT | overrides)
    os.environ.pop("AWS_ENDPOINT_URL", None)  # in-process moto, never a running local platform
