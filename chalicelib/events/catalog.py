"""The platform's own event types: one catalogue, one naming style (004's PascalCase).

A received vendor delivery is announced under its normalized type
(``PullRequestMerged``, from ``chalicelib.inbound.catalog``); everything the
platform itself does is announced under one of these, which is also the
``detail-type`` of its entry on an EventBridge bus (the platform's, only for a
subscription that asks: ``chalicelib.events.bus``). ``docs/events.md`` shows
each payload.
"""

from __future__ import annotations

CONNECTION_CREATED = "ConnectionCreated"
CONNECTION_UPDATED = "ConnectionUpdated"
CONNECTION_CREDENTIALS_UPDATED = "ConnectionCredentialsUpdated"
CONNECTION_ACTIVATED = "ConnectionActivated"
CONNECTION_DEACTIVATED = "ConnectionDeactivated"
CONNECTION_DELETED = "ConnectionDeleted"
CONNECTION_HEALTH_CHANGED = "ConnectionHealthChanged"
CONNECTION_HEALTH_CHECK_FAILED = "ConnectionHealthCheckFailed"
RUN_STARTED = "RunStarted"
RUN_COMPLETED = "RunCompleted"
RUN_FAILED = "RunFailed"
CREDENTIAL_ROTATED = "CredentialRotated"
CREDENTIAL_ROTATION_FAILED = "CredentialRotationFailed"
SUBSCRIPTION_DISABLED = "WebhookSubscriptionDisabled"  # Stripe's SubscriptionCreated etc. are billing
DELIVERY_FAILED = "DeliveryFailed"
SCHEDULE_CREATED = "ScheduleCreated"
SCHEDULE_PAUSED = "SchedulePaused"
SCHEDULE_RESUMED = "ScheduleResumed"
SCHEDULE_DELETED = "ScheduleDeleted"

PLATFORM_EVENT_TYPES = (
    CONNECTION_CREATED,
    CONNECTION_UPDATED,
    CONNECTION_CREDENTIALS_UPDATED,
    CONNECTION_ACTIVATED,
    CONNECTION_DEACTIVATED,
    CONNECTION_DELETED,
    CONNECTION_HEALTH_CHANGED,
    CONNECTION_HEALTH_CHECK_FAILED,
    RUN_STARTED,
    RUN_COMPLETED,
    RUN_FAILED,
    CREDENTIAL_ROTATED,
    CREDENTIAL_ROTATION_FAILED,
    SUBSCRIPTION_DISABLED,
    DELIVERY_FAILED,
    SCHEDULE_CREATED,
    SCHEDULE_PAUSED,
    SCHEDULE_RESUMED,
    SCHEDULE_DELETED,
)

# Where the platform's own events come from, and the times their payloads carry
# (``docs/events.md``): a stored event's times render in the one form on read.
PLATFORM_SOURCES = frozenset(
    {
        "platform.connections",
        "platform.health",
        "platform.credentials",
        "platform.webhooks",
        "runs",
        "inbound",
        "platform.schedules",
    }
)
PLATFORM_TIME_FIELDS = frozenset(
    {"startedAt", "completedAt", "checkedAt", "failedAt", "disabledAt", "failingSince", "scheduledTime"}
)
