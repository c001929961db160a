"""Subscription, attempt and dispatch-message shapes.

``eventType`` (004) and ``eventTypes`` (a list with ``*`` and prefix wildcards)
are both accepted; the stored subscription always holds the list, and
``eventType`` echoes its first entry so 004 clients see what they sent.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any

from pydantic import ConfigDict, Field, field_validator, model_validator

from chalicelib.core.models import (
    JsonObject,
    ListResponse,
    RequestModel,
    WireModel,
    at_least_one_of,
    exactly_one_of,
    not_both,
)
from chalicelib.core.timestamps import Timestamp
from chalicelib.destinations.models import Destination, WebhookDestination
from chalicelib.events.models import PlatformEvent
from chalicelib.stats.models import UsageStats

TYPE_PATTERN = re.compile(r"^(\*|[A-Za-z][A-Za-z0-9_.:-]{0,127}\*?)$")
EVENT_TYPE = re.compile(r"^[A-Za-z][A-Za-z0-9_.:-]{0,127}$")
# What ``_check_patterns`` enforces, as JSON Schema (the validator keeps its own messages).
PATTERNS_SCHEMA = {"items": {"type": "string", "pattern": TYPE_PATTERN.pattern}, "minItems": 1, "maxItems": 50}
EventTypePatterns = Annotated[list[str], Field(json_schema_extra=PATTERNS_SCHEMA)]
Url = Annotated[str, Field(min_length=8, max_length=2048)]
SecretRef = Annotated[str, Field(min_length=6, max_length=420)]
Overlap = Annotated[int, Field(ge=0, le=7 * 24 * 3600)]
Pattern = Annotated[
    dict[str, Any],
    Field(description="An EventBridge event pattern over {id, type, source, timestamp, data}."),
]
Transform = Annotated[
    str, Field(min_length=1, max_length=1024, description="A JMESPath expression projecting the envelope.")
]


def matches(patterns: list[str], event_type: str) -> bool:
    """``*`` matches everything, ``Prefix*`` a prefix, anything else itself."""
    for pattern in patterns:
        if pattern == "*" or pattern == event_type:
            return True
        if pattern.endswith("*") and event_type.startswith(pattern[:-1]):
            return True
    return False


def _check_patterns(patterns: list[str] | None) -> list[str] | None:
    if patterns is None:
        return None
    if not 1 <= len(patterns) <= 50:
        raise ValueError("give between 1 and 50 event types")
    for pattern in patterns:
        if not TYPE_PATTERN.match(pattern):
            raise ValueError(f"'{pattern}' is not an event type, '*' or a 'Prefix*' wildcard")
    return list(dict.fromkeys(patterns))


ORDERING_KEY = re.compile(r"^data(\.[A-Za-z0-9_$@-]{1,64}){1,8}$")
OrderingKey = Annotated[
    str,
    Field(
        pattern=ORDERING_KEY.pattern,
        max_length=300,
        description="A dotted path into the event, starting at data (e.g. data.repository.id); "
        "events with the same value keep their order, others need not wait for each other.",
    ),
]


class DeliveryMode(StrEnum):
    """``ordered``: one subscription's deliveries go out one at a time, in event order (an SQS FIFO queue)."""

    UNORDERED = "unordered"
    ORDERED = "ordered"


class SignatureScheme(StrEnum):
    """Standard Webhooks: ``v1`` is HMAC-SHA256 with a shared secret, ``v1a`` ed25519 with a published key."""

    V1 = "v1"
    V1A = "v1a"


class SubscriptionStatus(StrEnum):
    ACTIVE = "Active"
    INACTIVE = "Inactive"
    DISABLED = "Disabled"


# Only a webhook is signed: with any other destination, no signingSecretRef or signatureScheme.
UNSIGNED_UNLESS_WEBHOOK: dict[str, Any] = {
    "if": {
        "required": ["destination"],
        "properties": {"destination": {"properties": {"type": {"not": {"const": "webhook"}}}}},
    },
    "then": {"not": {"anyOf": [{"required": ["signingSecretRef"]}, {"required": ["signatureScheme"]}]}},
}


class CreateSubscriptionRequest(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            **at_least_one_of("eventType", "eventTypes"),
            **exactly_one_of("endpointUrl", "destination"),
            "if": {"required": ["orderingKey"], "properties": {"orderingKey": {"not": {"type": "null"}}}},
            "then": {"required": ["delivery"], "properties": {"delivery": {"const": "ordered"}}},
            "allOf": [UNSIGNED_UNLESS_WEBHOOK],
        }
    )

    tenant_id: str | None = None
    project_id: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    event_type: Annotated[str, Field(max_length=129, json_schema_extra={"pattern": TYPE_PATTERN.pattern})] | None = None
    event_types: EventTypePatterns | None = None
    endpoint_url: Url | None = Field(default=None, description='Short for destination {"type": "webhook", "url": ...}.')
    destination: Destination | None = None
    signing_secret_ref: SecretRef | None = None
    signature_scheme: SignatureScheme = SignatureScheme.V1
    filter: Pattern | None = None
    transform: Transform | None = None
    active: bool = True
    description: Annotated[str, Field(max_length=500)] | None = None
    delivery: DeliveryMode = DeliveryMode.UNORDERED
    ordering_key: OrderingKey | None = None

    @field_validator("event_types")
    @classmethod
    def _valid_patterns(cls, value: list[str] | None) -> list[str] | None:
        return _check_patterns(value)

    @model_validator(mode="after")
    def _some_type(self) -> CreateSubscriptionRequest:
        if self.event_type is None and self.event_types is None:
            raise ValueError("give eventType or eventTypes")
        if self.ordering_key is not None and self.delivery is not DeliveryMode.ORDERED:
            raise ValueError("orderingKey needs delivery 'ordered'")
        if self.event_type is not None:
            _check_patterns([self.event_type])
        if (self.endpoint_url is None) == (self.destination is None):
            raise ValueError("give endpointUrl or destination, not both")
        if not isinstance(self.target(), WebhookDestination) and (
            self.signing_secret_ref is not None or "signature_scheme" in self.model_fields_set
        ):
            raise ValueError("only a webhook destination is signed; leave signingSecretRef and signatureScheme out")
        return self

    def target(self) -> Destination:
        """Where to deliver: ``destination``, or the webhook ``endpointUrl`` names."""
        if self.destination is not None:
            return self.destination
        return WebhookDestination(url=self.endpoint_url or "")

    def patterns(self) -> list[str]:
        listed = ([self.event_type] if self.event_type else []) + (self.event_types or [])
        return list(dict.fromkeys(listed))


class UpdateSubscriptionRequest(RequestModel):
    """``filter: null`` or ``transform: null`` removes it; leaving the field out keeps it.

    ``endpointUrl`` is short for a webhook ``destination``; give one of them, or neither to keep it.
    """

    model_config = ConfigDict(json_schema_extra=not_both("endpointUrl", "destination"))

    endpoint_url: Url | None = None
    destination: Destination | None = None
    event_types: EventTypePatterns | None = None
    filter: Pattern | None = None
    transform: Transform | None = None
    active: bool | None = None
    description: Annotated[str, Field(max_length=500)] | None = None
    delivery: DeliveryMode | None = None
    ordering_key: OrderingKey | None = Field(default=None, description="null removes the key.")

    @field_validator("event_types")
    @classmethod
    def _valid_patterns(cls, value: list[str] | None) -> list[str] | None:
        return _check_patterns(value)

    @model_validator(mode="after")
    def _one_destination(self) -> UpdateSubscriptionRequest:
        if self.endpoint_url is not None and self.destination is not None:
            raise ValueError("give endpointUrl or destination, not both")
        return self

    def target(self) -> Destination | None:
        """The new destination, if the request changes it."""
        if self.endpoint_url is not None:
            return WebhookDestination(url=self.endpoint_url)
        return self.destination


class RotateSecretRequest(RequestModel):
    overlap_seconds: Overlap | None = None
    signing_secret_ref: SecretRef | None = None


class SigningSecretEntry(WireModel):
    """A reference to one signing secret or ``v1a`` private key; the value lives only in Secrets Manager.

    A ``v1a`` entry also keeps its public key, which is not a secret, so
    publishing it reads no secret.
    """

    ref: str
    managed: bool
    public_key: str | None = None
    created_at: Timestamp
    expires_at: Timestamp | None = None


class Subscription(WireModel):
    subscription_id: str
    tenant_id: str
    project_id: str | None = None
    status: SubscriptionStatus
    active: bool
    event_type: str
    event_types: list[str]
    destination: Destination
    endpoint_url: str | None = Field(default=None, description="A webhook destination's URL; null for the others.")
    signing_secret_ref: str | None = Field(default=None, description="Only a webhook destination is signed.")
    signature_scheme: SignatureScheme | None = SignatureScheme.V1
    filter: dict[str, Any] | None = None
    transform: str | None = None
    description: str | None = None
    delivery: DeliveryMode = DeliveryMode.UNORDERED
    ordering_key: str | None = None
    created_at: Timestamp
    updated_at: Timestamp
    disabled_at: Timestamp | None = None
    disabled_reason: str | None = None
    failing_since: Timestamp | None = None
    signing_secret: str | None = Field(default=None, description="Returned once, when the platform generated it.")
    # Delivery-attempt numbers over 30 days; only ``GET /webhooks/subscriptions/{id}`` fills them.
    stats: UsageStats | None = None
    public_key: str | None = Field(default=None, description="v1a: the current verification key (whpk_...).")
    trace_id: str | None = None


class SubscriptionList(WireModel):
    items: list[Subscription]
    next_cursor: str | None = None


class SubscriptionListQuery(WireModel):
    limit: Annotated[int, Field(ge=1, le=100)] = 20
    cursor: str | None = None


class RotatedSecret(WireModel):
    subscription_id: str
    signing_secret_ref: str
    signing_secret: str | None = None
    public_key: str | None = Field(default=None, description="v1a: the new verification key (whpk_...).")
    previous_secret_expires_at: Timestamp | None = None
    trace_id: str | None = None


class PublicKeyEntry(WireModel):
    public_key: str
    created_at: Timestamp
    expires_at: Timestamp | None = None


class PublicKey(WireModel):
    """A ``v1a`` subscription's verification keys, newest last; older ones sign until they expire.

    A ``v1`` subscription signs with a shared secret: it answers its scheme and no keys.
    """

    subscription_id: str
    signature_scheme: SignatureScheme
    public_key: str | None = Field(
        default=None, description="The current key: whpk_ then base64 of the raw 32-byte ed25519 key."
    )
    keys: list[PublicKeyEntry]


class AttemptStatus(StrEnum):
    SUCCEEDED = "Succeeded"
    RETRYING = "Retrying"
    FAILED = "Failed"


class Attempt(WireModel):
    attempt_id: str
    subscription_id: str
    event_id: str
    event_type: str
    attempt: int
    status: AttemptStatus
    attempted_at: Timestamp
    status_code: int | None = None
    latency_ms: int | None = None
    response_body: str | None = None
    error: str | None = None
    next_retry_at: Timestamp | None = None


class AttemptList(WireModel):
    items: list[Attempt]
    next_cursor: str | None = None


class AttemptListQuery(WireModel):
    limit: Annotated[int, Field(ge=1, le=100)] = 20
    cursor: str | None = None


class DeliveryStatus(WireModel):
    """The latest outcome of one event at one subscription (``GET /events/{id}``)."""

    subscription_id: str
    status: AttemptStatus
    attempts: int
    last_attempt_at: Timestamp
    status_code: int | None = None
    error: str | None = None
    next_retry_at: Timestamp | None = None


class EventDetail(PlatformEvent):
    """A recorded event with where it went (``GET /events/{id}``)."""

    deliveries: list[DeliveryStatus] = Field(default_factory=list)


class RecoverRequest(RequestModel):
    since: Annotated[str, Field(min_length=10, max_length=40)]


class RedeliverRequest(RequestModel):
    subscription_id: Annotated[str, Field(min_length=1, max_length=80)] | None = None


class Queued(WireModel):
    event_ids: list[str]
    subscription_ids: list[str]
    queued: int
    trace_id: str | None = None


class PublishEventRequest(RequestModel):
    type: Annotated[str, Field(pattern=EVENT_TYPE.pattern)]
    data: JsonObject = Field(default_factory=dict)
    source: Annotated[str, Field(min_length=1, max_length=200)] | None = None


class PublishedEvent(WireModel):
    event_id: str
    type: str
    source: str
    timestamp: Timestamp
    data: dict[str, Any]
    trace_id: str | None = None


class EventListQuery(WireModel):
    """``since``: the oldest recording time to list (inclusive), so a client that saw up to T asks for T again."""

    since: Timestamp
    limit: Annotated[int, Field(ge=1, le=100)] = 100
    cursor: str | None = None


class EventList(ListResponse[PublishedEvent]):
    """The tenant's recorded events, oldest first."""


class DispatchMessage(WireModel):
    """One delivery of one event to one subscription, as carried on the dispatch queue.

    ``body`` is the exact JSON text sent (so retries sign the same bytes) unless
    it is too large for SQS, in which case the dispatcher reads the event.
    ``due_at`` lets a retry wait longer than SQS's 15-minute delay cap.
    ``delivery_id`` names the delivery (``chalicelib.outbound.deliveries``): the
    dispatcher keys its sends on it, and its attempts are counted under it.
    ``message_group`` is set for an ordered subscription (the FIFO queue's
    MessageGroupId), and ``delivery_id`` is then also its MessageDeduplicationId
    (``chalicelib.outbound.ordered``). A message without one (queued before
    deliveries had ids) is sent as it comes. ``ordering_value`` is the ordering
    key's value in the event (an AWS destination's FIFO group or partition key).
    ``event_time`` is the event's timestamp, which keys a first-try success's one
    attempt item (``deliveries.first_try_key``) and which an AWS destination's
    attributes carry (a message without it has the event read).
    """

    tenant_id: str
    subscription_id: str
    event_id: str
    event_type: str
    attempt: int = 1
    due_at: float | None = None
    body: str | None = None
    message_group: str | None = None
    delivery_id: str | None = None
    ordering_value: str | None = None
    event_time: Timestamp | None = None
