"""``Client``: one method per operation of ``/openapi.json``, named after its ``operationId``.

Paths come from the generated ``OPERATIONS`` table, so a renamed route is a
regeneration, not a hunt. List operations have an ``iter_*`` twin that
follows ``nextCursor`` until the last page. Every POST gets an
``Idempotency-Key`` (a fresh UUID unless the caller passes one), so the
transport's retries can never create twice.
"""

from __future__ import annotations

import dataclasses
import os
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any, cast

from integration_platform import models
from integration_platform.errors import WaitTimeoutError
from integration_platform.transport import RetryPolicy, Transport

FINAL_RUN_STATUSES = frozenset({"Completed", "Failed", "Cancelled"})
USER_AGENT = "integration-platform-python/1.0.0"


class Client:
    """A tenant's view of the platform, authenticated by a bearer token or an API key.

    ``ingest_url`` is where the vendor-facing operations go: a deployed stage's ``IngestURL``. Without it
    they go to ``base_url``, which is right locally, where one server serves both fronts.
    """

    def __init__(
        self,
        base_url: str,
        *,
        ingest_url: str | None = None,
        token: str | None = None,
        api_key: str | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        headers = {"User-Agent": USER_AGENT}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if api_key:
            headers["X-API-Key"] = api_key
        self.transport = Transport(base_url, headers, timeout, retry or RetryPolicy(), sleep)
        self.ingest_transport = dataclasses.replace(self.transport, base_url=ingest_url or base_url)
        self._sleep = sleep

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] = os.environ,
        *,
        url: str | None = None,
        ingest_url: str | None = None,
        token: str | None = None,
        api_key: str | None = None,
        **options: Any,
    ) -> Client:
        """Arguments first, then ``IPCTL_URL``, ``IPCTL_INGEST_URL``, ``IPCTL_TOKEN``, ``IPCTL_API_KEY``.

        Without a URL it is the local runtime on ``PORT`` (8000 when unset), as ``make run`` serves it.
        """
        return cls(
            url or environ.get("IPCTL_URL") or f"http://127.0.0.1:{environ.get('PORT') or '8000'}",
            ingest_url=ingest_url or environ.get("IPCTL_INGEST_URL"),
            token=token or environ.get("IPCTL_TOKEN"),
            api_key=api_key or environ.get("IPCTL_API_KEY"),
            **options,
        )

    # -- plumbing ---------------------------------------------------------------------------------

    def call(
        self,
        operation_id: str,
        path_params: Mapping[str, str] | None = None,
        *,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        idempotency_key: str | None = None,
    ) -> Any:
        """Any operation by its ``operationId``; the typed methods below are all this."""
        method, template = models.OPERATIONS[operation_id]
        path = template.format(
            **{name: urllib.parse.quote(value, safe="") for name, value in (path_params or {}).items()}
        )
        headers = {"Idempotency-Key": idempotency_key or str(uuid.uuid4())} if method == "POST" else {}
        transport = self.ingest_transport if operation_id in models.INGEST_OPERATIONS else self.transport
        response = transport.request(method, path, query=query, body=body, headers=headers)
        if response.headers.get("content-type", "").startswith("application/json"):
            return response.json()
        return response.body.decode() if response.body else None

    def _pages(self, operation_id: str, path_params: Mapping[str, str], query: Mapping[str, Any]) -> Iterator[Any]:
        cursor: str | None = None
        while True:
            page = self.call(operation_id, path_params, query={**query, "cursor": cursor})
            yield from page["items"]
            cursor = page.get("nextCursor")
            if not cursor:
                return

    # -- connections ------------------------------------------------------------------------------

    def create_connection(
        self, request: models.CreateConnectionRequest, *, idempotency_key: str | None = None
    ) -> models.EstablishedConnection:
        return cast(
            models.EstablishedConnection, self.call("create_connection", body=request, idempotency_key=idempotency_key)
        )

    def list_connections(
        self,
        *,
        limit: int | None = None,
        cursor: str | None = None,
        status: str | None = None,
        provider_id: str | None = None,
        project_id: str | None = None,
    ) -> models.ConnectionList:
        query = {"limit": limit, "cursor": cursor, "status": status, "providerId": provider_id, "projectId": project_id}
        return cast(models.ConnectionList, self.call("list_connections", query=query))

    def iter_connections(
        self,
        *,
        page_size: int | None = None,
        status: str | None = None,
        provider_id: str | None = None,
        project_id: str | None = None,
    ) -> Iterator[models.Connection]:
        query = {"limit": page_size, "status": status, "providerId": provider_id, "projectId": project_id}
        return self._pages("list_connections", {}, query)

    def get_connection(self, connection_id: str) -> models.Connection:
        return cast(models.Connection, self.call("get_connection", {"connectionId": connection_id}))

    def update_connection(self, connection_id: str, request: models.UpdateConnectionRequest) -> models.Connection:
        return cast(models.Connection, self.call("update_connection", {"connectionId": connection_id}, body=request))

    def delete_connection(self, connection_id: str) -> models.ConnectionDeleted:
        return cast(models.ConnectionDeleted, self.call("delete_connection", {"connectionId": connection_id}))

    def activate_connection(self, connection_id: str) -> models.StatusChanged:
        return cast(models.StatusChanged, self.call("activate_connection", {"connectionId": connection_id}))

    def deactivate_connection(self, connection_id: str) -> models.StatusChanged:
        return cast(models.StatusChanged, self.call("deactivate_connection", {"connectionId": connection_id}))

    def change_credentials(self, connection_id: str, request: models.CredentialsChange) -> models.CredentialsChanged:
        path = {"connectionId": connection_id}
        return cast(models.CredentialsChanged, self.call("change_credentials", path, body=request))

    def change_webhook_secret(
        self, connection_id: str, request: models.WebhookSecretChange
    ) -> models.WebhookSecretChanged:
        path = {"connectionId": connection_id}
        return cast(models.WebhookSecretChanged, self.call("change_webhook_secret", path, body=request))

    def get_health(self, connection_id: str) -> models.ConnectionHealth:
        return cast(models.ConnectionHealth, self.call("get_health", {"connectionId": connection_id}))

    def check_health(self, connection_id: str) -> models.ConnectionHealth:
        return cast(models.ConnectionHealth, self.call("check_health", {"connectionId": connection_id}))

    def test_connection(self, connection_id: str) -> models.ConnectionTest:
        return cast(models.ConnectionTest, self.call("test_connection", {"connectionId": connection_id}))

    def list_operations(self, connection_id: str) -> models.OperationCatalog:
        return cast(models.OperationCatalog, self.call("list_operations", {"connectionId": connection_id}))

    # -- runs -------------------------------------------------------------------------------------

    def execute_operation(
        self,
        connection_id: str,
        operation: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> models.Run:
        """Start a run (202 ``Pending``); ``wait_for_run`` follows it to its end."""
        path = {"connectionId": connection_id, "operation": operation}
        body = {"parameters": dict(parameters or {})}
        return cast(models.Run, self.call("execute_operation", path, body=body, idempotency_key=idempotency_key))

    def list_runs(
        self,
        *,
        limit: int | None = None,
        cursor: str | None = None,
        connection_id: str | None = None,
        status: str | None = None,
    ) -> models.RunList:
        query = {"limit": limit, "cursor": cursor, "connectionId": connection_id, "status": status}
        return cast(models.RunList, self.call("list_runs", query=query))

    def iter_runs(
        self, *, page_size: int | None = None, connection_id: str | None = None, status: str | None = None
    ) -> Iterator[models.Run]:
        return self._pages("list_runs", {}, {"limit": page_size, "connectionId": connection_id, "status": status})

    def get_run(self, run_id: str) -> models.Run:
        return cast(models.Run, self.call("get_run", {"runId": run_id}))

    def cancel_run(self, run_id: str) -> models.Run:
        return cast(models.Run, self.call("cancel_run", {"runId": run_id}))

    def wait_for_run(
        self,
        run_id: str,
        *,
        timeout: float = 300.0,
        interval: float = 1.0,
        on_poll: Callable[[models.Run], None] | None = None,
    ) -> models.Run:
        """Poll until the run is Completed, Failed or Cancelled and return it; ``WaitTimeoutError`` after ``timeout``.

        A Failed run is returned, not raised: its ``error`` is the vendor's answer, not the SDK's.
        """
        deadline = time.monotonic() + timeout
        while True:
            run = self.get_run(run_id)
            if on_poll:
                on_poll(run)
            if run["status"] in FINAL_RUN_STATUSES:
                return run
            left = deadline - time.monotonic()
            if left <= 0:
                raise WaitTimeoutError(f"run {run_id} is still {run['status']} after {timeout:g}s", run)
            self._sleep(min(interval, left))

    # -- providers --------------------------------------------------------------------------------

    def register_provider(
        self, request: models.RegisterProviderRequest, *, idempotency_key: str | None = None
    ) -> models.RegisteredProvider:
        return cast(
            models.RegisteredProvider, self.call("register_provider", body=request, idempotency_key=idempotency_key)
        )

    def list_providers(self, *, limit: int | None = None, cursor: str | None = None) -> models.ProviderList:
        return cast(models.ProviderList, self.call("list_providers", query={"limit": limit, "cursor": cursor}))

    def iter_providers(self, *, page_size: int | None = None) -> Iterator[models.Provider]:
        return self._pages("list_providers", {}, {"limit": page_size})

    def get_provider(self, provider_id: str) -> models.Provider:
        return cast(models.Provider, self.call("get_provider", {"providerId": provider_id}))

    # -- credentials ------------------------------------------------------------------------------

    def rotate_credential(
        self, request: models.RotateRequest, *, idempotency_key: str | None = None
    ) -> models.RotationAccepted:
        return cast(
            models.RotationAccepted, self.call("rotate_credential", body=request, idempotency_key=idempotency_key)
        )

    def get_credential(self, credential_id: str) -> models.CredentialView:
        return cast(models.CredentialView, self.call("get_credential", {"credentialId": credential_id}))

    # -- webhook subscriptions and attempts -------------------------------------------------------

    def create_subscription(
        self, request: models.CreateSubscriptionRequest, *, idempotency_key: str | None = None
    ) -> models.Subscription:
        """The answer holds ``signingSecret`` once: keep it for ``webhooks.verify``."""
        return cast(
            models.Subscription, self.call("create_subscription", body=request, idempotency_key=idempotency_key)
        )

    def list_subscriptions(self, *, limit: int | None = None, cursor: str | None = None) -> models.SubscriptionList:
        return cast(models.SubscriptionList, self.call("list_subscriptions", query={"limit": limit, "cursor": cursor}))

    def iter_subscriptions(self, *, page_size: int | None = None) -> Iterator[models.Subscription]:
        return self._pages("list_subscriptions", {}, {"limit": page_size})

    def get_subscription(self, subscription_id: str) -> models.Subscription:
        return cast(models.Subscription, self.call("get_subscription", {"subscriptionId": subscription_id}))

    def update_subscription(
        self, subscription_id: str, request: models.UpdateSubscriptionRequest
    ) -> models.Subscription:
        path = {"subscriptionId": subscription_id}
        return cast(models.Subscription, self.call("update_subscription", path, body=request))

    def delete_subscription(self, subscription_id: str) -> None:
        self.call("delete_subscription", {"subscriptionId": subscription_id})

    def rotate_secret(self, subscription_id: str) -> models.RotatedSecret:
        return cast(models.RotatedSecret, self.call("rotate_secret", {"subscriptionId": subscription_id}))

    def get_public_key(self, subscription_id: str) -> models.PublicKey:
        """A ``v1a`` subscription's ``whpk_`` key(s) for ``webhooks.verify_v1a``."""
        return cast(models.PublicKey, self.call("get_public_key", {"subscriptionId": subscription_id}))

    def preview_subscription(self, subscription_id: str, request: models.PreviewRequest) -> models.Preview:
        """Whether an event (given, or ``eventId``) matches, and the exact body that would be sent."""
        path = {"subscriptionId": subscription_id}
        return cast(models.Preview, self.call("preview_subscription", path, body=request))

    def recover_subscription(self, subscription_id: str, since: str) -> models.Queued:
        path = {"subscriptionId": subscription_id}
        return cast(models.Queued, self.call("recover_subscription", path, body={"since": since}))

    def list_attempts(
        self, subscription_id: str, *, limit: int | None = None, cursor: str | None = None
    ) -> models.AttemptList:
        path = {"subscriptionId": subscription_id}
        return cast(models.AttemptList, self.call("list_attempts", path, query={"limit": limit, "cursor": cursor}))

    def iter_attempts(self, subscription_id: str, *, page_size: int | None = None) -> Iterator[models.Attempt]:
        return self._pages("list_attempts", {"subscriptionId": subscription_id}, {"limit": page_size})

    # -- events -----------------------------------------------------------------------------------

    def publish_event(
        self, request: models.PublishEventRequest, *, idempotency_key: str | None = None
    ) -> models.PublishedEvent:
        return cast(models.PublishedEvent, self.call("publish_event", body=request, idempotency_key=idempotency_key))

    def get_event(self, event_id: str) -> models.EventDetail:
        return cast(models.EventDetail, self.call("get_event", {"eventId": event_id}))

    def redeliver_event(self, event_id: str) -> models.Queued:
        return cast(models.Queued, self.call("redeliver_event", {"eventId": event_id}))

    def list_events(self, since: str, *, limit: int | None = None, cursor: str | None = None) -> models.EventList:
        """The events recorded at ``since`` or later, oldest first (``ipctl listen`` replays from here)."""
        query = {"since": since, "limit": limit, "cursor": cursor}
        return cast(models.EventList, self.call("list_events", query=query))

    def iter_events(self, since: str, *, page_size: int | None = None) -> Iterator[models.PublishedEvent]:
        return self._pages("list_events", {}, {"since": since, "limit": page_size})

    def get_event_bus(self) -> models.EventBus:
        """The platform's EventBridge bus: a subscription whose destination names its ARN gets events on it."""
        return cast(models.EventBus, self.call("get_event_bus"))

    # -- inbound deliveries -----------------------------------------------------------------------

    def list_deliveries(
        self, connection_id: str, *, limit: int | None = None, cursor: str | None = None
    ) -> models.DeliveryList:
        query = {"connectionId": connection_id, "limit": limit, "cursor": cursor}
        return cast(models.DeliveryList, self.call("list_deliveries", query=query))

    def iter_deliveries(self, connection_id: str, *, page_size: int | None = None) -> Iterator[models.Delivery]:
        return self._pages("list_deliveries", {}, {"connectionId": connection_id, "limit": page_size})

    def get_delivery(self, delivery_id: str) -> models.Delivery:
        return cast(models.Delivery, self.call("get_delivery", {"id": delivery_id}))

    def redrive_delivery(self, delivery_id: str, *, idempotency_key: str | None = None) -> models.Delivery:
        path = {"id": delivery_id}
        return cast(models.Delivery, self.call("redrive_delivery", path, idempotency_key=idempotency_key))

    def ingest_delivery(self, connection_id: str, payload: Mapping[str, Any]) -> models.DeliveryReceipt:
        """What a vendor does (``?connectionId=``); for tests and replays, signed by the caller's own headers."""
        query = {"connectionId": connection_id}
        return cast(models.DeliveryReceipt, self.call("ingest_delivery", query=query, body=dict(payload)))

    def receive_vendor_delivery(self, connection_id: str, payload: Mapping[str, Any]) -> models.DeliveryReceipt:
        """What a vendor does at the connection's ``webhookUrl``."""
        return cast(
            models.DeliveryReceipt, self.call("receive_vendor_delivery", {"id": connection_id}, body=dict(payload))
        )

    def list_event_types(self) -> models.EventTypeCatalog:
        return cast(models.EventTypeCatalog, self.call("list_event_types"))

    # -- API keys ---------------------------------------------------------------------------------

    def create_api_key(
        self, request: models.CreateApiKeyRequest, *, idempotency_key: str | None = None
    ) -> models.CreatedApiKey:
        """The answer holds the key itself once; the platform keeps only its hash."""
        return cast(models.CreatedApiKey, self.call("create_api_key", body=request, idempotency_key=idempotency_key))

    def list_api_keys(self, *, limit: int | None = None, cursor: str | None = None) -> models.ApiKeyList:
        return cast(models.ApiKeyList, self.call("list_api_keys", query={"limit": limit, "cursor": cursor}))

    def iter_api_keys(self, *, page_size: int | None = None) -> Iterator[models.ApiKey]:
        return self._pages("list_api_keys", {}, {"limit": page_size})

    def revoke_api_key(self, api_key_id: str) -> None:
        self.call("revoke_api_key", {"apiKeyId": api_key_id})

    # -- subscriber portal ------------------------------------------------------------------------

    def create_portal_session(
        self, request: models.PortalSessionRequest, *, idempotency_key: str | None = None
    ) -> models.PortalSession:
        """A short-lived link for one of your customers to manage only these subscriptions (docs/console.md)."""
        return cast(
            models.PortalSession, self.call("create_portal_session", body=request, idempotency_key=idempotency_key)
        )

    # -- schedules --------------------------------------------------------------------------------

    def create_schedule(
        self, connection_id: str, request: models.CreateScheduleRequest, *, idempotency_key: str | None = None
    ) -> models.Schedule:
        """Run an operation on a ``rate`` or a ``cron`` (EventBridge Scheduler); every firing is a run."""
        path = {"connectionId": connection_id}
        return cast(models.Schedule, self.call("create_schedule", path, body=request, idempotency_key=idempotency_key))

    def list_schedules(
        self, connection_id: str, *, limit: int | None = None, cursor: str | None = None
    ) -> models.ScheduleList:
        query = {"limit": limit, "cursor": cursor}
        return cast(models.ScheduleList, self.call("list_schedules", {"connectionId": connection_id}, query=query))

    def iter_schedules(self, connection_id: str, *, page_size: int | None = None) -> Iterator[models.Schedule]:
        return self._pages("list_schedules", {"connectionId": connection_id}, {"limit": page_size})

    def get_schedule(self, connection_id: str, schedule_id: str) -> models.Schedule:
        path = {"connectionId": connection_id, "scheduleId": schedule_id}
        return cast(models.Schedule, self.call("get_schedule", path))

    def pause_schedule(self, connection_id: str, schedule_id: str) -> models.Schedule:
        path = {"connectionId": connection_id, "scheduleId": schedule_id}
        return cast(models.Schedule, self.call("pause_schedule", path))

    def resume_schedule(self, connection_id: str, schedule_id: str) -> models.Schedule:
        path = {"connectionId": connection_id, "scheduleId": schedule_id}
        return cast(models.Schedule, self.call("resume_schedule", path))

    def delete_schedule(self, connection_id: str, schedule_id: str) -> models.ScheduleDeleted:
        path = {"connectionId": connection_id, "scheduleId": schedule_id}
        return cast(models.ScheduleDeleted, self.call("delete_schedule", path))

    # -- numbers ----------------------------------------------------------------------------------

    def get_metrics(
        self,
        *,
        connection_id: str | None = None,
        subscription_id: str | None = None,
        granularity: str | None = None,
        start: str | None = None,
        end: str | None = None,
    ) -> models.MetricsSeries:
        """The tenant's time series, or one connection's or subscription's (``start``/``end`` are RFC 3339)."""
        query = {
            "connectionId": connection_id,
            "subscriptionId": subscription_id,
            "granularity": granularity,
            "from": start,
            "to": end,
        }
        return cast(models.MetricsSeries, self.call("get_metrics", query=query))

    # -- MCP --------------------------------------------------------------------------------------

    def mcp_endpoint(self, message: Mapping[str, Any]) -> Any:
        """One JSON-RPC message to ``POST /mcp`` (stateless: no session); an MCP client library is the usual caller."""
        return self.call("mcp_endpoint", body=dict(message))

    # -- system -----------------------------------------------------------------------------------

    def platform_health(self) -> models.PlatformHealth:
        return cast(models.PlatformHealth, self.call("platform_health"))

    def openapi_document(self) -> dict[str, Any]:
        return cast(dict[str, Any], self.call("openapi_document"))

    def api_docs(self) -> str:
        return cast(str, self.call("api_docs"))

    def console_page(self) -> str:
        return cast(str, self.call("console_page"))

    def console_asset(self, asset: str) -> str:
        return cast(str, self.call("console_asset", {"asset": asset}))

    def portal_page(self) -> str:
        return cast(str, self.call("portal_page"))
