"""Typed models of the Integration Platform API, generated from its ``/openapi.json``.

Do not edit: run ``python sdk/python/tools/generate.py <document or URL>``.
"""

from __future__ import annotations

from typing import Any, Literal, Required, TypeAlias, TypedDict

API_VERSION = "1.0.0"

ApiKeyStatus: TypeAlias = Literal["Active", "Expired", "Revoked"]

AttemptStatus: TypeAlias = Literal["Succeeded", "Retrying", "Failed"]

AuthModel: TypeAlias = Literal["BearerToken", "ApiKey", "Basic", "OAuth2ClientCredentials", "AwsIam"]

Category: TypeAlias = Literal[
    "SourceControl",
    "Communication",
    "Payments",
    "Commerce",
    "ProjectManagement",
    "Crm",
    "Support",
    "Cloud",
    "Ai",
    "Generic",
]

ConnectionStatus: TypeAlias = Literal["Active", "Inactive"]

DeliveryMode: TypeAlias = Literal["unordered", "ordered"]

Destination: TypeAlias = (
    "WebhookDestination | SqsDestination | SnsDestination | EventBridgeDestination | KinesisDestination"
)

Health: TypeAlias = Literal["Healthy", "Unhealthy", "Unknown"]

InboundDeliveryStatus: TypeAlias = Literal["Processed", "Failed"]

JsonValue: TypeAlias = "str | bool | int | float | list[JsonValue] | dict[str, JsonValue] | None"

PausedBy: TypeAlias = Literal["Caller", "Connection"]

RotationStatus: TypeAlias = Literal["Rotating", "Rotated", "Failed"]

RunStatus: TypeAlias = Literal["Pending", "Running", "Completed", "Failed", "Cancelled"]

ScheduleState: TypeAlias = Literal["Enabled", "Paused"]

Scope: TypeAlias = Literal[
    "auth.api-keys.read",
    "auth.api-keys.write",
    "events.read",
    "events.write",
    "integration.connections.read",
    "integration.connections.write",
    "integration.credentials.read",
    "integration.credentials.rotate",
    "integration.providers.read",
    "integration.providers.write",
    "integration.runs.read",
    "integration.runs.write",
    "mcp.invoke",
    "metrics.read",
    "webhooks.deliveries.ingest",
    "webhooks.deliveries.read",
    "webhooks.subscriptions.read",
    "webhooks.subscriptions.write",
]

SecretOwner: TypeAlias = Literal["Platform", "Caller"]

SignatureScheme: TypeAlias = Literal["v1", "v1a"]

SubscriptionStatus: TypeAlias = Literal["Active", "Inactive", "Disabled"]


class ApiKey(TypedDict, total=False):
    """ApiKey"""

    apiKeyId: Required[str]
    name: Required[str]
    scopes: Required[list[str]]
    prefix: Required[str]
    status: Required[ApiKeyStatus]
    createdAt: Required[str]
    createdBy: Required[str]
    expiresAt: str | None
    revokedAt: str | None
    traceId: str | None


class ApiKeyCredentials(TypedDict, total=False):
    """ApiKeyCredentials"""

    apiKey: Required[str]


class ApiKeyList(TypedDict, total=False):
    """ApiKeyList"""

    items: Required[list[ApiKey]]
    nextCursor: str | None


class Attempt(TypedDict, total=False):
    """Attempt"""

    attemptId: Required[str]
    subscriptionId: Required[str]
    eventId: Required[str]
    eventType: Required[str]
    attempt: Required[int]
    status: Required[AttemptStatus]
    attemptedAt: Required[str]
    statusCode: int | None
    latencyMs: int | None
    responseBody: str | None
    error: str | None
    nextRetryAt: str | None


class AttemptList(TypedDict, total=False):
    """AttemptList"""

    items: Required[list[Attempt]]
    nextCursor: str | None


class AttemptListQuery(TypedDict, total=False):
    """AttemptListQuery"""

    limit: int
    cursor: str | None


class BasicCredentials(TypedDict, total=False):
    """BasicCredentials"""

    username: Required[str]
    password: Required[str]


class BearerTokenCredentials(TypedDict, total=False):
    """BearerTokenCredentials"""

    token: Required[str]


class CallsPoint(TypedDict, total=False):
    """CallsPoint"""

    total: int
    failed: int
    averageLatencyMs: int | None
    p95LatencyMs: int | None


class Connection(TypedDict, total=False):
    """Connection"""

    connectionId: Required[str]
    tenantId: Required[str]
    projectId: str | None
    providerId: Required[str]
    displayName: Required[str]
    authMode: Required[AuthModel]
    status: Required[ConnectionStatus]
    health: Required[Health]
    establishedAt: Required[str]
    lastCheckedAt: str | None
    credentialRef: str | None
    credentialId: str | None
    credentialOwner: SecretOwner | None
    lastRunId: str | None
    configuration: dict[str, Any]
    webhookSecretRef: str | None
    webhookSecretOwner: SecretOwner | None
    webhookUrl: str | None
    stats: UsageStats | None
    traceId: str | None


class ConnectionDeleted(TypedDict, total=False):
    """ConnectionDeleted"""

    connectionId: Required[str]
    deleted: Literal[True]
    credentialId: str | None
    credentialDeletion: Required[Literal["Scheduled", "Retained", "NoSecret"]]
    credentialDeletionDate: str | None
    credentialRetainedReason: Literal["SharedCredential", "CallerOwned"] | None
    webhookSecretDeletion: Literal["Deleted", "Retained"] | None
    traceId: str | None


class ConnectionHealth(TypedDict, total=False):
    """ConnectionHealth"""

    connectionId: Required[str]
    status: Required[Health]
    lastCheck: str | None
    lastCheckFailedAt: str | None
    message: str | None
    latencyMs: int | None
    checks: list[HealthCheck]
    metrics: HealthMetrics | None
    traceId: str | None


class ConnectionList(TypedDict, total=False):
    """ConnectionList"""

    items: Required[list[Connection]]
    nextCursor: str | None


class ConnectionListQuery(TypedDict, total=False):
    """ConnectionListQuery"""

    limit: int
    cursor: str | None
    status: ConnectionStatus | None
    providerId: str | None
    projectId: str | None


class ConnectionTest(TypedDict, total=False):
    """001's ``connection_test`` shape in camelCase; nothing is recorded."""

    connectionId: Required[str]
    connectionTest: Required[ConnectionTestResult]
    traceId: str | None


class ConnectionTestResult(TypedDict, total=False):
    """ConnectionTestResult"""

    success: Required[bool]
    latencyMs: Required[int]
    message: Required[str]
    timestamp: Required[str]


class CreateApiKeyRequest(TypedDict, total=False):
    """CreateApiKeyRequest"""

    name: Required[str]
    scopes: Required[list[Scope]]
    expiresAt: str | None


class CreateConnectionRequest(TypedDict, total=False):
    """Either ``credentialRef`` (an existing secret) or inline ``credentials``, never both; neither for a provider"""

    tenantId: str | None
    projectId: str | None
    providerId: Required[str]
    displayName: Required[str]
    authMode: AuthModel | None
    credentialRef: str | None
    credentials: BearerTokenCredentials | ApiKeyCredentials | BasicCredentials | OAuth2ClientCredentials | None
    configuration: dict[str, JsonValue]
    webhookSecret: str | None
    webhookSecretRef: str | None


class CreateScheduleRequest(TypedDict, total=False):
    """Exactly one of ``rate`` (``"5 minutes"``) or ``cron`` (EventBridge's six fields, evaluated in ``timezone``)."""

    tenantId: str | None
    operation: Required[str]
    parameters: dict[str, JsonValue]
    rate: str | None
    cron: str | None
    timezone: str
    description: str | None


class CreateSubscriptionRequest(TypedDict, total=False):
    """CreateSubscriptionRequest"""

    tenantId: str | None
    projectId: str | None
    eventType: str | None
    eventTypes: list[str] | None
    endpointUrl: str | None
    destination: Destination | None
    signingSecretRef: str | None
    signatureScheme: SignatureScheme
    filter: dict[str, Any] | None
    transform: str | None
    active: bool
    description: str | None
    delivery: DeliveryMode
    orderingKey: str | None


class CreatedApiKey(TypedDict, total=False):
    """CreatedApiKey"""

    apiKeyId: Required[str]
    name: Required[str]
    scopes: Required[list[str]]
    prefix: Required[str]
    status: Required[ApiKeyStatus]
    createdAt: Required[str]
    createdBy: Required[str]
    expiresAt: str | None
    revokedAt: str | None
    traceId: str | None
    apiKey: str | None


class CredentialVersion(TypedDict, total=False):
    """CredentialVersion"""

    versionId: Required[str]
    stages: Required[list[str]]
    createdAt: str | None


class CredentialView(TypedDict, total=False):
    """CredentialView"""

    credentialId: Required[str]
    credentialRef: Required[str]
    versions: Required[list[CredentialVersion]]
    lastRotatedAt: str | None
    connectionIds: Required[list[str]]
    rotation: RotationView | None
    traceId: str | None


class CredentialsChange(TypedDict, total=False):
    """CredentialsChange"""

    credentials: Required[BearerTokenCredentials | ApiKeyCredentials | BasicCredentials | OAuth2ClientCredentials]


class CredentialsChanged(TypedDict, total=False):
    """Where the new value went; the value itself is never echoed."""

    connectionId: Required[str]
    credentialId: Required[str]
    credentialRef: Required[str]
    versionId: Required[str]
    affectedConnectionIds: Required[list[str]]
    updatedAt: Required[str]
    traceId: str | None


class Delivery(TypedDict, total=False):
    """Delivery"""

    deliveryId: Required[str]
    tenantId: Required[str]
    connectionId: Required[str]
    providerId: Required[str]
    providerDeliveryId: Required[str]
    eventName: str | None
    normalizedEventType: str | None
    status: Required[InboundDeliveryStatus]
    receivedAt: Required[str]
    processedAt: str | None
    eventId: str | None
    failureReason: str | None
    failedAt: str | None
    redriveCount: int | None
    headers: dict[str, str]
    payload: Any
    expiresAt: str | None
    traceId: str | None


class DeliveryList(TypedDict, total=False):
    """DeliveryList"""

    items: Required[list[Delivery]]
    nextCursor: str | None


class DeliveryListQuery(TypedDict, total=False):
    """DeliveryListQuery"""

    connectionId: Required[str]
    limit: int
    cursor: str | None


class DeliveryReceipt(TypedDict, total=False):
    """The 004 answer: 202 Accepted for a new delivery, 200 Duplicate for a repeat."""

    deliveryId: Required[str]
    status: Required[Literal["Accepted", "Duplicate"]]
    normalizedEventType: str | None
    traceId: str | None


class DependencyCheck(TypedDict, total=False):
    """DependencyCheck"""

    name: Required[Literal["dynamodb", "sqs", "secretsmanager"]]
    status: Required[Literal["Healthy", "Unhealthy"]]
    message: str | None


class ErrorBody(TypedDict, total=False):
    """ErrorBody"""

    code: Required[str]
    message: Required[str]
    details: list[ErrorDetail]


class ErrorDetail(TypedDict, total=False):
    """ErrorDetail"""

    field: Required[str]
    message: Required[str]


class ErrorResponse(TypedDict, total=False):
    """ErrorResponse"""

    error: Required[ErrorBody]
    traceId: Required[str]


class EstablishedConnection(TypedDict, total=False):
    """The 004 establish response, plus where the credential lives."""

    connectionId: Required[str]
    status: Required[ConnectionStatus]
    providerId: Required[str]
    health: Required[Health]
    establishedAt: Required[str]
    credentialRef: str | None
    credentialId: str | None
    webhookUrl: str | None
    webhookSecretRef: str | None
    webhookSecret: str | None
    traceId: str | None


class EventBridgeDestination(TypedDict, total=False):
    """``PutEvents`` to an event bus: the tenant's own, or the platform's (``GET /events/bus`` names it)."""

    type: Required[Literal["eventbridge"]]
    eventBusArn: Required[str]


class EventBus(TypedDict, total=False):
    """The platform's EventBridge bus, as ``GET /events/bus`` names it."""

    eventBusArn: Required[str]
    eventBusName: Required[str]
    region: Required[str]
    source: Required[str]


class EventDetail(TypedDict, total=False):
    """A recorded event with where it went (``GET /events/{id}``)."""

    eventId: Required[str]
    tenantId: Required[str]
    type: Required[str]
    source: Required[str]
    timestamp: Required[str]
    data: Required[dict[str, Any]]
    traceId: str | None
    expiresAt: str | None
    origin: str | None
    deliveries: list[OutboundDeliveryStatus]


class EventList(TypedDict, total=False):
    """The tenant's recorded events, oldest first."""

    items: Required[list[PublishedEvent]]
    nextCursor: str | None


class EventListQuery(TypedDict, total=False):
    """``since``: the oldest recording time to list (inclusive), so a client that saw up to T asks for T again."""

    since: Required[str]
    limit: int
    cursor: str | None


class EventTypeCatalog(TypedDict, total=False):
    """EventTypeCatalog"""

    items: Required[list[EventTypeRule]]
    unmapped: str


class EventTypeRule(TypedDict, total=False):
    """EventTypeRule"""

    provider: Required[str]
    eventName: Required[str]
    when: dict[str, Any]
    eventType: Required[str]


class ExecuteOperationRequest(TypedDict, total=False):
    """ExecuteOperationRequest"""

    tenantId: str | None
    parameters: dict[str, JsonValue]


class HealthCheck(TypedDict, total=False):
    """001's check: what was checked, how it went and why."""

    name: Required[str]
    status: Required[Literal["passed", "failed", "warning"]]
    latencyMs: int | None
    message: Required[str]


class HealthMetrics(TypedDict, total=False):
    """001's health ``metrics``: the connection's vendor calls over the last 24 hours."""

    successRate24h: float | None
    averageLatencyMs: int | None
    errorRate: float | None
    totalCalls24h: int


class InboundPoint(TypedDict, total=False):
    """InboundPoint"""

    accepted: int
    rejected: int
    duplicate: int


class IngestQuery(TypedDict, total=False):
    """IngestQuery"""

    connectionId: str | None


class KinesisDestination(TypedDict, total=False):
    """``PutRecord`` to a data stream."""

    type: Required[Literal["kinesis"]]
    streamArn: Required[str]


class ListQuery(TypedDict, total=False):
    """ListQuery"""

    limit: int
    cursor: str | None


class MetricsPoint(TypedDict, total=False):
    """MetricsPoint"""

    timestamp: Required[str]
    inbound: Required[InboundPoint]
    outbound: Required[OutboundPoint]
    runs: Required[RunsPoint]
    calls: Required[CallsPoint]


MetricsQuery = TypedDict(
    "MetricsQuery",
    {
        "connectionId": "str | None",
        "subscriptionId": "str | None",
        "granularity": "Literal['minute', 'hour', 'day']",
        "from": "str | None",
        "to": "str | None",
    },
    total=False,
)


MetricsSeries = TypedDict(
    "MetricsSeries",
    {
        "granularity": "Required[Literal['minute', 'hour', 'day']]",
        "from": "Required[str]",
        "to": "Required[str]",
        "connectionId": "str | None",
        "subscriptionId": "str | None",
        "points": "Required[list[MetricsPoint]]",
        "traceId": "str | None",
    },
    total=False,
)


class OAuth2ClientCredentials(TypedDict, total=False):
    """OAuth2ClientCredentials"""

    clientId: Required[str]
    clientSecret: Required[str]
    tokenUrl: str | None
    scope: str | None


class OperationCatalog(TypedDict, total=False):
    """OperationCatalog"""

    connectionId: Required[str]
    providerId: Required[str]
    items: Required[list[OperationSpec]]
    traceId: str | None


class OperationSpec(TypedDict, total=False):
    """One catalog entry as ``GET /integrations/connections/{id}/operations`` lists it."""

    id: Required[str]
    name: Required[str]
    description: Required[str]
    parameters: Required[dict[str, Any]]
    resultSchema: Required[dict[str, Any]]
    idempotent: Required[bool]


class OutboundDeliveryStatus(TypedDict, total=False):
    """The latest outcome of one event at one subscription (``GET /events/{id}``)."""

    subscriptionId: Required[str]
    status: Required[AttemptStatus]
    attempts: Required[int]
    lastAttemptAt: Required[str]
    statusCode: int | None
    error: str | None
    nextRetryAt: str | None


class OutboundPoint(TypedDict, total=False):
    """OutboundPoint"""

    delivered: int
    failed: int
    averageLatencyMs: int | None
    p95LatencyMs: int | None


class PlatformHealth(TypedDict, total=False):
    """PlatformHealth"""

    status: Required[Literal["Healthy", "Unhealthy"]]
    checks: Required[list[DependencyCheck]]


class PortalSession(TypedDict, total=False):
    """PortalSession"""

    portalUrl: str | None
    token: str | None
    expiresAt: Required[str]
    subscriptionIds: Required[list[str]]
    consumerId: str | None


class PortalSessionRequest(TypedDict, total=False):
    """PortalSessionRequest"""

    consumerId: str | None
    subscriptionIds: list[str] | None
    expiresInSeconds: int


class Preview(TypedDict, total=False):
    """Whether the subscription takes the event and, if so, exactly what would be sent."""

    matches: Required[bool]
    eventTypeMatches: Required[bool]
    filterMatches: Required[bool]
    destination: Destination | None
    body: str | None
    headers: dict[str, str] | None
    signatureScheme: SignatureScheme | None
    error: str | None
    traceId: str | None


class PreviewEvent(TypedDict, total=False):
    """An event to try a subscription on; ``id`` and ``timestamp`` default to made-up ones."""

    type: Required[str]
    data: dict[str, JsonValue]
    source: str
    id: str | None
    timestamp: str | None


class PreviewRequest(TypedDict, total=False):
    """Give an ``event`` or the ``eventId`` of one of the tenant's recorded events, not both."""

    event: PreviewEvent | None
    eventId: str | None


class Provider(TypedDict, total=False):
    """Provider"""

    providerId: Required[str]
    key: Required[str]
    displayName: Required[str]
    category: Required[Category]
    authModel: Required[AuthModel]
    apiClient: str | None
    apiClientId: Required[str]
    capabilities: Required[list[str]]
    baseUrl: Required[str]
    webhookSignature: WebhookSignature
    builtIn: Required[bool]
    configurationSchema: dict[str, Any] | None
    status: Literal["Registered"]
    registeredAt: str | None
    traceId: str | None


class ProviderList(TypedDict, total=False):
    """ProviderList"""

    items: Required[list[Provider]]
    nextCursor: str | None


class PublicKey(TypedDict, total=False):
    """A ``v1a`` subscription's verification keys, newest last; older ones sign until they expire."""

    subscriptionId: Required[str]
    signatureScheme: Required[SignatureScheme]
    publicKey: str | None
    keys: Required[list[PublicKeyEntry]]


class PublicKeyEntry(TypedDict, total=False):
    """PublicKeyEntry"""

    publicKey: Required[str]
    createdAt: Required[str]
    expiresAt: str | None


class PublishEventRequest(TypedDict, total=False):
    """PublishEventRequest"""

    type: Required[str]
    data: dict[str, JsonValue]
    source: str | None


class PublishedEvent(TypedDict, total=False):
    """PublishedEvent"""

    eventId: Required[str]
    type: Required[str]
    source: Required[str]
    timestamp: Required[str]
    data: Required[dict[str, Any]]
    traceId: str | None


class Queued(TypedDict, total=False):
    """Queued"""

    eventIds: Required[list[str]]
    subscriptionIds: Required[list[str]]
    queued: Required[int]
    traceId: str | None


class RecoverRequest(TypedDict, total=False):
    """RecoverRequest"""

    since: Required[str]


class RegisterProviderRequest(TypedDict, total=False):
    """RegisterProviderRequest"""

    tenantId: str | None
    key: Required[str]
    displayName: Required[str]
    category: Category
    authModel: Required[AuthModel]
    apiClient: str | None
    capabilities: list[str]
    baseUrl: Required[str]
    webhookSignature: WebhookSignature | None
    configurationSchema: dict[str, JsonValue] | None


class RegisteredProvider(TypedDict, total=False):
    """The 004 registration response."""

    providerId: Required[str]
    status: Literal["Registered"]
    apiClientId: Required[str]
    registeredAt: Required[str]
    traceId: str | None


class RotateRequest(TypedDict, total=False):
    """RotateRequest"""

    tenantId: str | None
    credentialId: Required[str]
    reason: str
    credentials: BearerTokenCredentials | ApiKeyCredentials | BasicCredentials | OAuth2ClientCredentials | None


class RotatedSecret(TypedDict, total=False):
    """RotatedSecret"""

    subscriptionId: Required[str]
    signingSecretRef: Required[str]
    signingSecret: str | None
    publicKey: str | None
    previousSecretExpiresAt: str | None
    traceId: str | None


class RotationAccepted(TypedDict, total=False):
    """RotationAccepted"""

    credentialId: Required[str]
    status: Literal["Rotating"]
    newVersionRef: Required[str]
    verificationRunId: Required[str]
    traceId: str | None


class RotationView(TypedDict, total=False):
    """RotationView"""

    status: Required[RotationStatus]
    reason: Required[str]
    newVersionRef: Required[str]
    verificationRunId: Required[str]
    startedAt: Required[str]
    completedAt: str | None
    failureReason: str | None


class Run(TypedDict, total=False):
    """Run"""

    runId: Required[str]
    tenantId: Required[str]
    connectionId: Required[str]
    operation: Required[str]
    status: Required[RunStatus]
    attempts: int
    createdAt: Required[str]
    startedAt: str | None
    completedAt: str | None
    providerId: str | None
    parameters: dict[str, Any] | None
    result: Any
    resultTruncated: bool | None
    partialResult: Any
    delivery: dict[str, Any] | None
    error: RunError | None
    scheduleId: str | None
    scheduledTime: str | None
    traceId: str | None


class RunError(TypedDict, total=False):
    """Why a run failed: a platform code (``EXTERNAL_SERVICE_ERROR`` 502, ``EXTERNAL_SERVICE_TIMEOUT`` 504, ...)"""

    code: Required[str]
    message: Required[str]
    status: int | None
    vendorStatus: int | None


class RunList(TypedDict, total=False):
    """RunList"""

    items: Required[list[Run]]
    nextCursor: str | None


class RunListQuery(TypedDict, total=False):
    """RunListQuery"""

    limit: int
    cursor: str | None
    connectionId: str | None
    status: RunStatus | None


class RunsPoint(TypedDict, total=False):
    """RunsPoint"""

    completed: int
    failed: int
    averageLatencyMs: int | None
    p95LatencyMs: int | None


class Schedule(TypedDict, total=False):
    """Schedule"""

    scheduleId: Required[str]
    tenantId: Required[str]
    connectionId: Required[str]
    operation: Required[str]
    parameters: dict[str, Any]
    rate: str | None
    cron: str | None
    timezone: str
    description: str | None
    state: Required[ScheduleState]
    pausedBy: PausedBy | None
    createdAt: Required[str]
    updatedAt: Required[str]
    lastRunId: str | None
    lastScheduledTime: str | None
    traceId: str | None


class ScheduleDeleted(TypedDict, total=False):
    """ScheduleDeleted"""

    scheduleId: Required[str]
    deleted: bool
    traceId: str | None


class ScheduleList(TypedDict, total=False):
    """ScheduleList"""

    items: Required[list[Schedule]]
    nextCursor: str | None


class ScheduleListQuery(TypedDict, total=False):
    """ScheduleListQuery"""

    limit: int
    cursor: str | None


class SnsDestination(TypedDict, total=False):
    """``Publish`` to a standard or FIFO topic."""

    type: Required[Literal["sns"]]
    topicArn: Required[str]


class SqsDestination(TypedDict, total=False):
    """``SendMessage`` to a standard or FIFO queue."""

    type: Required[Literal["sqs"]]
    queueArn: Required[str]


class StatusChanged(TypedDict, total=False):
    """StatusChanged"""

    connectionId: Required[str]
    status: Required[ConnectionStatus]
    activatedAt: str | None
    deactivatedAt: str | None
    updatedAt: Required[str]
    traceId: str | None


class Subscription(TypedDict, total=False):
    """Subscription"""

    subscriptionId: Required[str]
    tenantId: Required[str]
    projectId: str | None
    status: Required[SubscriptionStatus]
    active: Required[bool]
    eventType: Required[str]
    eventTypes: Required[list[str]]
    destination: Required[Destination]
    endpointUrl: str | None
    signingSecretRef: str | None
    signatureScheme: SignatureScheme | None
    filter: dict[str, Any] | None
    transform: str | None
    description: str | None
    delivery: DeliveryMode
    orderingKey: str | None
    createdAt: Required[str]
    updatedAt: Required[str]
    disabledAt: str | None
    disabledReason: str | None
    failingSince: str | None
    signingSecret: str | None
    stats: UsageStats | None
    publicKey: str | None
    traceId: str | None


class SubscriptionList(TypedDict, total=False):
    """SubscriptionList"""

    items: Required[list[Subscription]]
    nextCursor: str | None


class SubscriptionListQuery(TypedDict, total=False):
    """SubscriptionListQuery"""

    limit: int
    cursor: str | None


class UpdateConnectionRequest(TypedDict, total=False):
    """Only the fields given change; ``configuration`` replaces the whole object."""

    displayName: str
    configuration: dict[str, JsonValue]
    projectId: str


class UpdateSubscriptionRequest(TypedDict, total=False):
    """``filter: null`` or ``transform: null`` removes it; leaving the field out keeps it."""

    endpointUrl: str | None
    destination: Destination | None
    eventTypes: list[str] | None
    filter: dict[str, Any] | None
    transform: str | None
    active: bool | None
    description: str | None
    delivery: DeliveryMode | None
    orderingKey: str | None


class UsageStats(TypedDict, total=False):
    """``stats`` on a connection (vendor calls) or a subscription (delivery attempts), over ``windowDays``."""

    windowDays: Required[int]
    totalCalls: Required[int]
    failedCalls: Required[int]
    successRate: float | None
    averageResponseTimeMs: int | None
    p50ResponseTimeMs: int | None
    p95ResponseTimeMs: int | None
    lastUsedAt: str | None


class VendorQuery(TypedDict, total=False):
    """VendorQuery"""

    runId: str | None


class WebhookDestination(TypedDict, total=False):
    """An HTTPS POST, signed (Standard Webhooks); the URL policy is checked where the subscription is stored."""

    type: Literal["webhook"]
    url: Required[str]


class WebhookSecretChange(TypedDict, total=False):
    """A new inbound secret (generated if absent); the old one verifies for ``overlapSeconds`` more."""

    webhookSecret: str | None
    overlapSeconds: int


class WebhookSecretChanged(TypedDict, total=False):
    """WebhookSecretChanged"""

    connectionId: Required[str]
    webhookSecretRef: Required[str]
    webhookSecret: str | None
    previousSecretExpiresAt: str | None
    traceId: str | None


class WebhookSignature(TypedDict, total=False):
    """How the vendor signs the webhooks it sends; ``hmac``/``jws`` take the extra settings."""

    scheme: Literal[
        "github", "stripe", "slack", "shopify", "standard-webhooks", "hmac", "jws", "twilio", "aws-sns", "none"
    ]
    header: str | None
    algorithm: Literal["sha1", "sha256", "sha512", "HS256", "RS256", "ES256"] | None
    encoding: Literal["hex", "base64"] | None
    prefix: str | None
    jwksUrl: str | None


OPERATIONS: dict[str, tuple[str, str]] = {
    "activate_connection": ("POST", "/integrations/connections/{connectionId}/activate"),
    "api_docs": ("GET", "/docs"),
    "cancel_run": ("POST", "/integrations/runs/{runId}/cancel"),
    "change_credentials": ("PUT", "/integrations/connections/{connectionId}/credentials"),
    "change_webhook_secret": ("PUT", "/integrations/connections/{connectionId}/webhook-secret"),
    "check_health": ("POST", "/integrations/connections/{connectionId}/health/check"),
    "console_asset": ("GET", "/console/{asset}"),
    "console_page": ("GET", "/console"),
    "create_api_key": ("POST", "/auth/api-keys"),
    "create_connection": ("POST", "/integrations/connections"),
    "create_portal_session": ("POST", "/webhooks/portal-sessions"),
    "create_schedule": ("POST", "/integrations/connections/{connectionId}/schedules"),
    "create_subscription": ("POST", "/webhooks/subscriptions"),
    "deactivate_connection": ("POST", "/integrations/connections/{connectionId}/deactivate"),
    "delete_connection": ("DELETE", "/integrations/connections/{connectionId}"),
    "delete_schedule": ("DELETE", "/integrations/connections/{connectionId}/schedules/{scheduleId}"),
    "delete_subscription": ("DELETE", "/webhooks/subscriptions/{subscriptionId}"),
    "execute_operation": ("POST", "/integrations/connections/{connectionId}/operations/{operation}"),
    "get_connection": ("GET", "/integrations/connections/{connectionId}"),
    "get_credential": ("GET", "/integrations/credentials/{credentialId}"),
    "get_delivery": ("GET", "/webhooks/deliveries/{id}"),
    "get_event": ("GET", "/events/{eventId}"),
    "get_event_bus": ("GET", "/events/bus"),
    "get_health": ("GET", "/integrations/connections/{connectionId}/health"),
    "get_metrics": ("GET", "/metrics"),
    "get_provider": ("GET", "/integrations/providers/{providerId}"),
    "get_public_key": ("GET", "/webhooks/subscriptions/{subscriptionId}/public-key"),
    "get_run": ("GET", "/integrations/runs/{runId}"),
    "get_schedule": ("GET", "/integrations/connections/{connectionId}/schedules/{scheduleId}"),
    "get_subscription": ("GET", "/webhooks/subscriptions/{subscriptionId}"),
    "ingest_delivery": ("POST", "/webhooks/deliveries"),
    "list_api_keys": ("GET", "/auth/api-keys"),
    "list_attempts": ("GET", "/webhooks/subscriptions/{subscriptionId}/attempts"),
    "list_connections": ("GET", "/integrations/connections"),
    "list_deliveries": ("GET", "/webhooks/deliveries"),
    "list_event_types": ("GET", "/webhooks/event-types"),
    "list_events": ("GET", "/events"),
    "list_operations": ("GET", "/integrations/connections/{connectionId}/operations"),
    "list_providers": ("GET", "/integrations/providers"),
    "list_runs": ("GET", "/integrations/runs"),
    "list_schedules": ("GET", "/integrations/connections/{connectionId}/schedules"),
    "list_subscriptions": ("GET", "/webhooks/subscriptions"),
    "mcp_endpoint": ("POST", "/mcp"),
    "openapi_document": ("GET", "/openapi.json"),
    "pause_schedule": ("POST", "/integrations/connections/{connectionId}/schedules/{scheduleId}/pause"),
    "platform_health": ("GET", "/health"),
    "portal_page": ("GET", "/portal"),
    "preview_subscription": ("POST", "/webhooks/subscriptions/{subscriptionId}/preview"),
    "publish_event": ("POST", "/events"),
    "receive_vendor_delivery": ("POST", "/webhooks/deliveries/{id}"),
    "recover_subscription": ("POST", "/webhooks/subscriptions/{subscriptionId}/recover"),
    "redeliver_event": ("POST", "/events/{eventId}/redeliver"),
    "redrive_delivery": ("POST", "/webhooks/deliveries/{id}/redrive"),
    "register_provider": ("POST", "/integrations/providers"),
    "resume_schedule": ("POST", "/integrations/connections/{connectionId}/schedules/{scheduleId}/resume"),
    "revoke_api_key": ("DELETE", "/auth/api-keys/{apiKeyId}"),
    "rotate_credential": ("POST", "/integrations/credentials/rotate"),
    "rotate_secret": ("POST", "/webhooks/subscriptions/{subscriptionId}/rotate-secret"),
    "test_connection": ("POST", "/integrations/connections/{connectionId}/test"),
    "update_connection": ("PATCH", "/integrations/connections/{connectionId}"),
    "update_subscription": ("PATCH", "/webhooks/subscriptions/{subscriptionId}"),
}
# Served on the ingest address when deployed (x-front: ingest), not the API's base URL.
INGEST_OPERATIONS: frozenset[str] = frozenset(
    {
        "ingest_delivery",
        "receive_vendor_delivery",
    }
)
