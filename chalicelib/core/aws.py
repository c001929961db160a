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

Event destinations (``chalicelib.destinations``) write to a tenant's queue,
topic, bus or stream with ``as_tenant``: a client under a session of the
writer role (``DESTINATION_ROLE_ARN``) assumed with the session tag
``tenantId=<tenant>``, which the tenant's resource policy conditions on. The
credentials are botocore's own deferred, refreshing assume-role credentials
(fetched on first use, renewed before they expire); the sessions share the
platform Session's event hooks and service models, so the fault injector, the
crash watcher and ``make iam``'s call log see their calls too, each marked with
the role it runs under (``ASSUMED_ROLE``, in the request context).
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections import OrderedDict
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
# Reentrant: refreshing a tenant session's credentials creates an STS client, which may happen inside a client's
# creation on services that resolve their endpoint from the account.
_lock = threading.RLock()
# Tenant-tagged clients by (service, tenant), least recently used first; a warm container serving many tenants
# keeps the most recent ones (each holds a connection pool and, in its session, credentials for up to an hour).
_tenant_clients: OrderedDict[tuple[str, str], Any] = OrderedDict()
_tenant_sessions: OrderedDict[str, Any] = OrderedDict()  # botocore sessions
TENANT_CACHE_SIZE = 64
# A write to a tenant's resource is a delivery like a webhook, bounded as one (botocore's default is 60 s each).
TENANT_CONNECT_TIMEOUT = 5.0
TENANT_READ_TIMEOUT = 10.0
# The key of the session tag that resource policies condition on (``aws:PrincipalTag/tenantId``).
TENANT_TAG = "tenantId"
# Where a call made under an assumed role names that role, in botocore's request context (``before-parameter-build``).
ASSUMED_ROLE = "assumedRole"
_SESSION_NAME_UNSAFE = re.compile(r"[^\w+=,.@-]")


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


def _config(connect_timeout: float = 60.0, read_timeout: float = 60.0) -> Any:
    """botocore's standard retries and a pool for the batch handlers' threads; botocore's default timeouts."""
    from botocore.config import Config

    return Config(
        retries={"mode": "standard", "max_attempts": 3},
        max_pool_connections=32,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
    )


def _watched(client: Any) -> Any:
    """``client`` with the fault injector (when ``AWS_FAULTS`` is set) and the crash watcher on it."""
    if _injector is not None:
        _injector.instrument(client)
    faults.watch_for_crashes(client)
    return client


def _client(service: str, endpoint_url: str | None = None) -> Any:
    key = (service, endpoint_url)
    client = _clients.get(key)
    if client is None:
        with _lock:
            client = _clients.get(key)
            if client is None:
                client = _watched(
                    _session_locked().client(
                        service,  # type: ignore[call-overload]
                        endpoint_url=endpoint_url or get_settings().aws_endpoint_url or None,
                        config=_config(),
                    )
                )
                _clients[key] = client
    return client


def session_name(tenant_id: str) -> str:
    """The role session's name, which CloudTrail shows: ``tenant-<id>``, in the characters and 64 characters STS
    allows (a longer or odd id keeps a readable start and a hash of the whole)."""
    name = "tenant-" + _SESSION_NAME_UNSAFE.sub("-", tenant_id)
    if len(name) > 64 or name != f"tenant-{tenant_id}":
        name = f"{name[:55]}-{hashlib.sha256(tenant_id.encode()).hexdigest()[:8]}"
    return name


def as_tenant(service: str, tenant_id: str) -> Any:
    """A client of ``service`` under the writer role, assumed for ``tenant_id`` with the session tag
    ``tenantId=<tenant_id>``; made once per (service, tenant) and kept for the ``TENANT_CACHE_SIZE`` most recent.

    Nothing is called until the client's first request, which assumes the role (``sts:AssumeRole`` and
    ``sts:TagSession`` under the function's own role); botocore renews the credentials before they expire.
    A tenant id that STS refuses as a tag value fails that request with STS's ``ValidationError``.
    """
    key = (service, tenant_id)
    with _lock:
        client = _tenant_clients.get(key)
        if client is None:
            role_arn = get_settings().destination_role_arn
            client = _watched(
                _tenant_session_locked(tenant_id, role_arn).create_client(
                    service,
                    region_name=get_settings().region,
                    endpoint_url=get_settings().aws_endpoint_url or None,
                    config=_config(TENANT_CONNECT_TIMEOUT, TENANT_READ_TIMEOUT),
                )
            )

            def mark(context: dict[str, Any], **_: Any) -> None:
                context[ASSUMED_ROLE] = role_arn

            client.meta.events.register_first("before-parameter-build", mark)
            _tenant_clients[key] = client
            while len(_tenant_clients) > TENANT_CACHE_SIZE:
                _tenant_clients.popitem(last=False)
        _tenant_clients.move_to_end(key)
        return client


def _tenant_session_locked(tenant_id: str, role_arn: str) -> Any:
    """A botocore session whose credentials are the tenant's role session. It shares the platform Session's
    event hooks and service models (not a boto3 Session, which would register its own handlers on the shared
    hooks again for every tenant)."""
    found = _tenant_sessions.get(tenant_id)
    if found is not None:
        _tenant_sessions.move_to_end(tenant_id)
        return found
    import botocore.session
    from botocore.credentials import (
        AssumeRoleCredentialFetcher,
        CredentialProvider,
        CredentialResolver,
        DeferredRefreshableCredentials,
    )

    base = _session_locked()

    def sts_client(service: str, **credentials: Any) -> Any:
        with _lock:
            return _watched(
                base._session.create_client(
                    service,
                    region_name=get_settings().region,
                    endpoint_url=get_settings().aws_endpoint_url or None,
                    config=_config(),
                    **credentials,
                )
            )

    fetcher = AssumeRoleCredentialFetcher(
        client_creator=sts_client,
        source_credentials=base.get_credentials(),
        role_arn=role_arn,
        extra_args={"RoleSessionName": session_name(tenant_id), "Tags": [{"Key": TENANT_TAG, "Value": tenant_id}]},
    )
    credentials = DeferredRefreshableCredentials(refresh_using=fetcher.fetch_credentials, method="assume-role")

    class Assumed(CredentialProvider):
        METHOD = "assume-role"

        def load(self) -> DeferredRefreshableCredentials:
            return credentials

    shared = base._session
    tenant = botocore.session.Session(event_hooks=shared.get_component("event_emitter"), include_builtin_handlers=False)
    tenant.register_component("data_loader", shared.get_component("data_loader"))
    tenant.register_component("credential_provider", CredentialResolver([Assumed()]))
    _tenant_sessions[tenant_id] = tenant
    while len(_tenant_sessions) > TENANT_CACHE_SIZE:
        _tenant_sessions.popitem(last=False)
    return tenant


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
        _tenant_clients.clear()
        _tenant_sessions.clear()
        _session = None
        _injector = None
