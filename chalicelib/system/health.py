"""Reachability of the AWS services the platform depends on."""

from __future__ import annotations

import contextvars
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

from chalicelib.core import aws
from chalicelib.core.config import get_settings
from chalicelib.core.models import WireModel


class DependencyCheck(WireModel):
    name: Literal["dynamodb", "sqs", "secretsmanager"]
    status: Literal["Healthy", "Unhealthy"]
    message: str | None = None


class PlatformHealth(WireModel):
    status: Literal["Healthy", "Unhealthy"]
    checks: list[DependencyCheck]


def _check_dynamodb() -> None:
    aws.dynamodb().describe_table(TableName=get_settings().table_name("connections"))


def _check_sqs() -> None:
    aws.sqs().get_queue_url(QueueName=get_settings().queue_name("runs"))


def _check_secretsmanager() -> None:
    aws.secretsmanager().list_secrets(MaxResults=1)


CHECKS = {"dynamodb": _check_dynamodb, "sqs": _check_sqs, "secretsmanager": _check_secretsmanager}


def _run(name: str) -> DependencyCheck:
    try:
        CHECKS[name]()
    except Exception as exc:  # any failure means unreachable; the message says which
        return DependencyCheck(name=name, status="Unhealthy", message=type(exc).__name__)
    return DependencyCheck(name=name, status="Healthy")


def check_platform() -> PlatformHealth:
    """The three checks at once, each in a copy of the request's context (its trace id, and locally the
    function whose role the calls are made under, which ``make iam`` checks)."""
    parent = contextvars.copy_context()
    with ThreadPoolExecutor(max_workers=len(CHECKS)) as pool:
        checks = list(pool.map(lambda name: parent.copy().run(_run, name), CHECKS))
    healthy = all(check.status == "Healthy" for check in checks)
    return PlatformHealth(status="Healthy" if healthy else "Unhealthy", checks=checks)
