"""The one place that creates boto3 clients.

Clients are created lazily, once per process, so importing the app stays cheap
(cold start) and every module shares connection pools. ``AWS_ENDPOINT_URL`` (read
by boto3 itself) points every client at the local runtime's moto server.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from chalicelib.core.config import get_settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sqs import SQSClient

_clients: dict[str, Any] = {}
_lock = threading.Lock()


def _client(service: str) -> Any:
    client = _clients.get(service)
    if client is None:
        with _lock:
            client = _clients.get(service)
            if client is None:
                import boto3
                from botocore.config import Config

                client = boto3.session.Session().client(
                    service,  # type: ignore[call-overload]
                    region_name=get_settings().region,
                    config=Config(retries={"mode": "standard", "max_attempts": 3}, max_pool_connections=32),
                )
                _clients[service] = client
    return client


def dynamodb() -> DynamoDBClient:
    return _client("dynamodb")  # type: ignore[no-any-return]


def sqs() -> SQSClient:
    return _client("sqs")  # type: ignore[no-any-return]


def secretsmanager() -> SecretsManagerClient:
    return _client("secretsmanager")  # type: ignore[no-any-return]


def events() -> EventBridgeClient:
    return _client("events")  # type: ignore[no-any-return]


def reset_clients() -> None:
    """Forget cached clients; tests call this when they switch AWS endpoints."""
    with _lock:
        _clients.clear()
