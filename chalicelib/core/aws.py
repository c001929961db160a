"""The one place that creates boto3 clients.

Clients are created lazily, once per process, so importing the app stays cheap
(cold start) and every module shares connection pools. All of them come from
one boto3 Session (creating clients from a Session is not thread-safe, hence
the lock). ``Settings.aws_endpoint_url`` (``AWS_ENDPOINT_URL``, or ``MOTO_PORT``
on the local stage) points every client at the local runtime's moto server; on
the local stage the Session also carries moto's placeholder credentials, so
``chalice local`` needs no AWS profile. ``AWS_FAULTS`` makes a fraction of every
client's calls fail (``chalicelib.core.faults``, docs/reliability.md); unset, no
hook is registered and calls cost nothing extra.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

from chalicelib.core import faults
from chalicelib.core.config import LOCAL_STAGE, get_settings

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_scheduler import EventBridgeSchedulerClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sqs import SQSClient

# By service and endpoint: the live API's endpoint is a setting of its own, which a test (or a stage) may change.
_clients: dict[tuple[str, str | None], Any] = {}
_session: boto3.session.Session | None = None
_injector: faults.FaultInjector | None = None
_lock = threading.Lock()


def session() -> boto3.session.Session:
    """The Session every client comes from; creating it reads ``AWS_FAULTS`` (a bad value raises here)."""
    with _lock:
        return _session_locked()


def _session_locked() -> boto3.session.Session:
    global _session, _injector
    if _session is None:
        import boto3

        settings = get_settings()
        placeholder = "local" if settings.stage == LOCAL_STAGE else None  # None: boto3's credential chain
        created = boto3.session.Session(
            region_name=settings.region, aws_access_key_id=placeholder, aws_secret_access_key=placeholder
        )
        switch = faults.from_environment(os.environ, created.get_available_services)
        _injector = faults.FaultInjector(switch) if switch else None
        _session = created
    return _session


def faults_on() -> faults.Faults | None:
    """What ``AWS_FAULTS`` injects into this process's clients, or None."""
    with _lock:
        _session_locked()
        return _injector.faults if _injector else None


def _client(service: str, endpoint_url: str | None = None) -> Any:
    key = (service, endpoint_url)
    client = _clients.get(key)
    if client is None:
        with _lock:
            client = _clients.get(key)
            if client is None:
                from botocore.config import Config

                client = _session_locked().client(
                    service,  # type: ignore[call-overload]
                    endpoint_url=endpoint_url or get_settings().aws_endpoint_url or None,
                    config=Config(retries={"mode": "standard", "max_attempts": 3}, max_pool_connections=32),
                )
                if _injector is not None:
                    _injector.instrument(client)
                faults.watch_for_crashes(client)
                _clients[key] = client
    return client


def dynamodb() -> DynamoDBClient:
    return _client("dynamodb")  # type: ignore[no-any-return]


def dynamodbstreams() -> Any:
    """DynamoDB Streams, read back by the events stream's failure consumer (chalicelib.outbound.stream_failures)."""
    return _client("dynamodbstreams")


def sqs() -> SQSClient:
    return _client("sqs")  # type: ignore[no-any-return]


def secretsmanager() -> SecretsManagerClient:
    return _client("secretsmanager")  # type: ignore[no-any-return]


def events() -> EventBridgeClient:
    return _client("events")  # type: ignore[no-any-return]


def scheduler() -> EventBridgeSchedulerClient:
    """EventBridge Scheduler, which fires scheduled runs into the runs queue (chalicelib.schedules)."""
    return _client("scheduler")  # type: ignore[no-any-return]


def ses() -> Any:
    """SES (v1 API) for ``SendEmail`` under the platform's own role."""
    return _client("ses")


def sns() -> Any:
    """SNS for ``SendSms`` (Publish to a phone number) under the platform's own role."""
    return _client("sns")


def live_connections() -> Any:
    """API Gateway's management API of the live WebSocket API (``PostToConnection``), at ``LIVE_ENDPOINT_URL``.

    Its endpoint is the WebSocket API's own stage URL (locally the runtime's ``$PORT``), not AWS's or moto's.
    """
    return _client("apigatewaymanagementapi", get_settings().live_endpoint_url)


def reset_clients() -> None:
    """Forget the Session and its clients; tests call this when they switch AWS endpoints or ``AWS_FAULTS``."""
    global _session, _injector
    with _lock:
        _clients.clear()
        _session = None
        _injector = None
