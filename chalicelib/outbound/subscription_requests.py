"""What a subscription request may say: create, change, rotate the secret.

``eventType`` (004) and ``eventTypes`` (a list with ``*`` and prefix wildcards)
are both accepted; the stored subscription always holds the list, and
``eventType`` echoes its first entry so 004 clients see what they sent.
Every rule a request can be checked against alone is checked here (a 400);
what needs the stored subscription (an update's) is checked by the service.

``delivery: ordered`` needs a destination that keeps order (``keeps_order``):
a standard SQS queue or SNS topic, or an EventBridge bus, may hand events on in
any order, so ordering there would cost the wait of one-at-a-time sends and
promise nothing.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import ConfigDict, Field, field_validator, model_validator

from chalicelib.core.config import FIFO_SUFFIX
from chalicelib.core.models import RequestModel, at_least_one_of, exactly_one_of, not_both
from chalicelib.destinations.models import (
    Destination,
    KinesisDestination,
    SnsDestination,
    SqsDestination,
    WebhookDestination,
)
from chalicelib.outbound.models import TYPE_PATTERN, DeliveryMode, SignatureScheme

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


ORDER_REFUSED = (
    "delivery 'ordered' needs a destination that keeps order: a webhook, a FIFO queue or topic (.fifo) or a "
    "Kinesis stream; a standard SQS queue or SNS topic and an EventBridge bus may reorder events"
)


def keeps_order(destination: Destination) -> bool:
    """Whether ``delivery: ordered`` can hold at ``destination``: a webhook (sent one at a time), a FIFO queue or
    topic (a message group per ordering value) or a Kinesis stream (a partition key per ordering value)."""
    if isinstance(destination, SqsDestination | SnsDestination):
        return destination.fifo
    return isinstance(destination, WebhookDestination | KinesisDestination)


_FIFO_NAME = {"pattern": re.escape(FIFO_SUFFIX) + "$"}
# ``keeps_order`` as JSON Schema, for a request that gives both delivery 'ordered' and a destination.
ORDERED_KEEPS_ORDER: dict[str, Any] = {
    "if": {"required": ["delivery", "destination"], "properties": {"delivery": {"const": "ordered"}}},
    "then": {
        "properties": {
            "destination": {
                "anyOf": [
                    {"properties": {"type": {"enum": ["webhook", "kinesis"]}}},
                    {"required": ["queueArn"], "properties": {"queueArn": _FIFO_NAME}},
                    {"required": ["topicArn"], "properties": {"topicArn": _FIFO_NAME}},
                ]
            }
        }
    },
}


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
            "allOf": [UNSIGNED_UNLESS_WEBHOOK, ORDERED_KEEPS_ORDER],
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
        if self.delivery is DeliveryMode.ORDERED and not keeps_order(self.target()):
            raise ValueError(ORDER_REFUSED)
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

    model_config = ConfigDict(json_schema_extra={**not_both("endpointUrl", "destination"), **ORDERED_KEEPS_ORDER})

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
