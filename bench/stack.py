"""What the deployment declares that a bill depends on: each function's memory, and which front serves ingest.

Read from ``.chalice/config.json`` (Chalice's lookup order for ``lambda_memory_size``) and from
``infra/template.json``, which ``make package`` merges over Chalice's output and may set a function's
``MemorySize`` or add an API Gateway v2 HTTP API. ``bench.cost`` prices from here, so its figures follow
the code: move the ingest route to another front, or a function to another size, and the bill follows.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench import environment

TEMPLATE = Path(__file__).resolve().parent.parent / "infra" / "template.json"
INGEST_PATH = "/webhooks/deliveries"  # the vendor-facing routes (and 004's envelope route) start here
CHALICE_DEFAULT_MEMORY_MB = 128
_HTTP_API_TYPES = {"AWS::Serverless::HttpApi", "AWS::ApiGatewayV2::Route", "AWS::ApiGatewayV2::Integration"}


def template() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(TEMPLATE.read_text())
    return loaded


def logical_id(function: str) -> str:
    """Chalice's CloudFormation name for a function: ``events_stream`` -> ``EventsStream``; the API's is fixed."""
    if function == "api_handler":
        return "APIHandler"
    return "".join(part[0].upper() + part[1:] for part in function.replace("-", "_").split("_") if part)


def memory_mb(function: str, stage: str = "prod") -> int:
    """The function's memory: the merged template's ``MemorySize``, else Chalice's config lookup, else 128."""
    resource = template()["Resources"].get(logical_id(function), {})
    declared = resource.get("Properties", {}).get("MemorySize")
    if isinstance(declared, int):
        return declared
    config = environment.config()
    stage_config = config.get("stages", {}).get(stage, {})
    for scope in (
        stage_config.get("lambda_functions", {}).get(function, {}),
        config.get("lambda_functions", {}).get(function, {}),
        stage_config,
        config,
    ):
        if "lambda_memory_size" in scope:
            return int(scope["lambda_memory_size"])
    return CHALICE_DEFAULT_MEMORY_MB


def ingest_front(declared: dict[str, Any] | None = None) -> str:
    """``"http"`` when the template (``declared``, else ours) puts the ingest routes on an HTTP API, else ``"rest"``."""
    for resource in (declared or template())["Resources"].values():
        declarations = [resource] if _is_http_api(resource) else []
        events = resource.get("Properties", {}).get("Events", {})
        declarations += [event for event in events.values() if event.get("Type") == "HttpApi"]
        if any(INGEST_PATH in json.dumps(declaration) for declaration in declarations):
            return "http"
    return "rest"


def _is_http_api(resource: dict[str, Any]) -> bool:
    kind = resource.get("Type")
    protocol = resource.get("Properties", {}).get("ProtocolType")
    return kind in _HTTP_API_TYPES or (kind == "AWS::ApiGatewayV2::Api" and protocol == "HTTP")
