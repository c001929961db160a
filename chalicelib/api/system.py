"""Public system routes: platform health."""

from __future__ import annotations

from chalice.app import Blueprint

from chalicelib.api.routing import Call, Reply, endpoint
from chalicelib.system.health import PlatformHealth, check_platform

system = Blueprint(__name__)
TAG = "System"


@endpoint(
    system,
    "/health",
    "GET",
    summary="Platform health (DynamoDB, SQS, Secrets Manager)",
    tag=TAG,
    scope=None,
    response=PlatformHealth,
    errors=(503,),
)
def platform_health(call: Call) -> Reply:
    health = check_platform()
    return Reply(health, status=200 if health.status == "Healthy" else 503)
