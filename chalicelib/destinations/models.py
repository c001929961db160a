"""Where a subscription delivers: a webhook URL, or an SQS queue, SNS topic, EventBridge bus or Kinesis stream.

The wire shapes are ``{"type": ..., <the one address field>}``, discriminated on
``type``. An AWS destination is named by its ARN, checked here for the service,
the resource shape and the region: the platform writes only in its own region
(a cross-region write would add latency and a data-transfer charge to every
event, and the writer role's policy is regional), so any other region is a 400
that says which. Whether the platform may write there is a separate question,
answered with a real call at create and update (``chalicelib.destinations.access``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field

from chalicelib.core.config import FIFO_SUFFIX, LOCAL_ACCOUNT, get_settings
from chalicelib.core.models import RequestModel


@dataclass(frozen=True)
class Arn:
    """An ARN split into its parts; ``resource`` is everything after the account."""

    partition: str
    service: str
    region: str
    account: str
    resource: str

    def __str__(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"


@dataclass(frozen=True)
class _Kind:
    """What one destination type's ARN looks like: its service, a resource pattern and a readable form of it."""

    service: str
    label: str
    resource: re.Pattern[str]
    shape: str


_ARN = re.compile(r"^arn:(aws[a-z-]*):([a-z0-9-]+):([a-z0-9-]*):(\d{12}|):(.+)$")
# The names each service accepts: SQS 80 characters (a FIFO queue's include ``.fifo``), SNS 256, EventBridge 256
# (its ``default`` bus too), Kinesis 128.
SQS = _Kind(
    "sqs",
    "an SQS queue",
    re.compile(r"^[A-Za-z0-9_-]{1,80}$|^[A-Za-z0-9_-]{1,75}\.fifo$"),
    "arn:aws:sqs:<region>:<account>:<name>",
)
SNS = _Kind(
    "sns",
    "an SNS topic",
    re.compile(r"^[A-Za-z0-9_-]{1,256}$|^[A-Za-z0-9_-]{1,251}\.fifo$"),
    "arn:aws:sns:<region>:<account>:<name>",
)
EVENTBRIDGE = _Kind(
    "events",
    "an EventBridge event bus",
    re.compile(r"^event-bus/[A-Za-z0-9/._-]{1,256}$"),
    "arn:aws:events:<region>:<account>:event-bus/<name>",
)
KINESIS = _Kind(
    "kinesis",
    "a Kinesis data stream",
    re.compile(r"^stream/[A-Za-z0-9_.-]{1,128}$"),
    "arn:aws:kinesis:<region>:<account>:stream/<name>",
)


def parse_arn(value: str, kind: _Kind) -> Arn:
    """``value`` as ``kind``'s ARN in the platform's region; a ``ValueError`` saying what is wrong otherwise."""
    match = _ARN.match(value)
    if match is None:
        raise ValueError(f"not an ARN; give {kind.label} ARN ({kind.shape})")
    arn = Arn(*match.groups())
    if arn.service != kind.service:
        raise ValueError(f"an ARN of the {arn.service} service, not {kind.label}; give {kind.shape}")
    if not arn.account or not kind.resource.match(arn.resource):
        raise ValueError(f"not {kind.label} ARN; give {kind.shape}")
    region = get_settings().region
    if arn.region != region:
        raise ValueError(f"in region '{arn.region or '(none)'}'; the platform writes only to {region}")
    return arn


def refuse_platforms(arn: Arn) -> None:
    """A ``ValueError`` when ``arn`` names one of the platform's own resources, its bus excepted.

    The writer role writes wherever a resource policy lets it, and the platform's own account needs none: a
    tenant naming the dispatch queue, a dead-letter queue or the alarms topic would have the platform write
    there. A deployed stage refuses its whole account (the writer role's policy also excludes it, with
    ``aws:ResourceAccount``); on the embedded AWS, one account holds the platform and every tenant, so there the
    platform's resources are refused by their names (the resource prefix).
    """
    settings = get_settings()
    if str(arn) == settings.event_bus_arn:
        return
    account = settings.destination_role_arn.split(":")[4]
    if arn.account != account:
        return
    if account != LOCAL_ACCOUNT:
        raise ValueError(f"in the platform's own account {account}; give a resource in your own account")
    if arn.resource.split("/", 1)[-1].startswith(f"{settings.resource_prefix}-"):
        raise ValueError("one of the platform's own resources; give a resource of your own")


def _checked(kind: _Kind) -> AfterValidator:
    def check(value: str) -> str:
        refuse_platforms(parse_arn(value, kind))
        return value

    return AfterValidator(check)


def _arn_field(kind: _Kind, example: str) -> object:
    def state_pattern(schema: dict[str, Any]) -> None:
        """The document states what ``parse_arn`` enforces, the platform's region included (a deployment's
        setting, fixed when its document is built), so a client can check an ARN before sending it."""
        resource = kind.resource.pattern.replace("^", "").replace("$", "")
        region = get_settings().region  # [a-z0-9-]: nothing to escape
        schema["pattern"] = f"^arn:aws[a-z-]*:{kind.service}:{region}:[0-9]{{12}}:(?:{resource})$"

    return Field(
        min_length=20,
        max_length=512,
        description=f"The ARN of {kind.label}: {kind.shape}.",
        examples=[example],
        json_schema_extra=state_pattern,
    )


QueueArn = Annotated[str, _checked(SQS), _arn_field(SQS, "arn:aws:sqs:us-east-1:111122223333:orders")]
TopicArn = Annotated[str, _checked(SNS), _arn_field(SNS, "arn:aws:sns:us-east-1:111122223333:orders")]
EventBusArn = Annotated[
    str, _checked(EVENTBRIDGE), _arn_field(EVENTBRIDGE, "arn:aws:events:us-east-1:111122223333:event-bus/orders")
]
StreamArn = Annotated[
    str, _checked(KINESIS), _arn_field(KINESIS, "arn:aws:kinesis:us-east-1:111122223333:stream/orders")
]


class WebhookDestination(RequestModel):
    """An HTTPS POST, signed (Standard Webhooks); the URL policy is checked where the subscription is stored."""

    type: Literal["webhook"] = "webhook"
    url: Annotated[str, Field(min_length=8, max_length=2048)]


class SqsDestination(RequestModel):
    """``SendMessage`` to a standard or FIFO queue."""

    type: Literal["sqs"]
    queue_arn: QueueArn

    @property
    def arn(self) -> Arn:
        return parse_arn(self.queue_arn, SQS)

    @property
    def fifo(self) -> bool:
        return self.queue_arn.endswith(FIFO_SUFFIX)

    @property
    def queue_url(self) -> str:
        """SQS's calls name a queue by URL; a queue in another account has the URL its ARN gives."""
        arn = self.arn
        return f"https://sqs.{arn.region}.amazonaws.com/{arn.account}/{arn.resource}"


class SnsDestination(RequestModel):
    """``Publish`` to a standard or FIFO topic."""

    type: Literal["sns"]
    topic_arn: TopicArn

    @property
    def arn(self) -> Arn:
        return parse_arn(self.topic_arn, SNS)

    @property
    def fifo(self) -> bool:
        return self.topic_arn.endswith(FIFO_SUFFIX)


class EventBridgeDestination(RequestModel):
    """``PutEvents`` to an event bus: the tenant's own, or the platform's (``GET /events/bus`` names it)."""

    type: Literal["eventbridge"]
    event_bus_arn: EventBusArn

    @property
    def arn(self) -> Arn:
        return parse_arn(self.event_bus_arn, EVENTBRIDGE)

    @property
    def platform_bus(self) -> bool:
        """The platform's own bus (``GET /events/bus``), written under the function's own role and shared by every
        tenant."""
        return self.event_bus_arn == get_settings().event_bus_arn


class KinesisDestination(RequestModel):
    """``PutRecord`` to a data stream."""

    type: Literal["kinesis"]
    stream_arn: StreamArn

    @property
    def arn(self) -> Arn:
        return parse_arn(self.stream_arn, KINESIS)


AwsDestination = SqsDestination | SnsDestination | EventBridgeDestination | KinesisDestination
Destination = Annotated[WebhookDestination | AwsDestination, Field(discriminator="type")]
