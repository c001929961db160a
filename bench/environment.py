"""The environment the in-process benches run in, set before they import the app (settings are read once).

moto stands in for AWS with fixed credentials, under a prefix of its own; logs and EMF are kept quiet.
``stage_variables`` reads a stage's variables from ``.chalice/config.json`` (the global ones, then the
stage's), so a bench that prices what a deployment pays (``bench.cost``) runs with the prod stage's settings
(its rate limits among them) instead of copies of its numbers.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

CONFIG = Path(__file__).resolve().parent.parent / ".chalice" / "config.json"

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
# What a bench on one machine cannot take from a deployed stage: its receivers and fake vendor listen on
# http://127.0.0.1 (refused unless insecure URLs are allowed) and its tables live under the bench's own
# prefix. Everything else a stage sets (its log level too) applies as the stage sets it.
MACHINE_ONLY = ("RESOURCE_PREFIX", "ALLOW_INSECURE_URLS")


def config() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(CONFIG.read_text())
    return loaded


def stage_variables(stage: str) -> dict[str, str]:
    """The environment ``chalice deploy --stage <stage>`` gives every function: global variables, then the stage's."""
    loaded = config()
    return {**loaded.get("environment_variables", {}), **loaded["stages"][stage].get("environment_variables", {})}


def apply(stage: str | None = None, **overrides: str) -> dict[str, str]:
    """Set the bench's environment (over ``stage``'s variables, when named); what was applied from the stage."""
    from_stage = {k: v for k, v in stage_variables(stage).items() if k not in MACHINE_ONLY} if stage else {}
    os.environ.update(BENCH_ENVIRONMENT | from_stage | overrides)
    os.environ.pop("AWS_ENDPOINT_URL", None)  # in-process moto, never a running local platform
    return from_stage
