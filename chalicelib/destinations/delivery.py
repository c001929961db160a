"""Writing one delivery to an SQS queue, SNS topic, EventBridge bus or Kinesis stream: ``send``.

Each write goes through the tenant-tagged role session (``aws.as_tenant``), so
a tenant's resource policy decides, with ``aws:PrincipalTag/tenantId``, whether
the platform may write there for this tenant. The platform's own bus is the
exception: it is the platform's, written under the function's own role.

What arrives is the body a webhook receives; the event id, type, timestamp and
subscription travel beside it where the service has room (message attributes,
EventBridge's ``source``/``detail-type``/``time``, Kinesis's partition key), so
a consumer can route without parsing (docs/webhooks-outbound.md "Destinations").

``send`` never raises for what AWS answers. Every failure is a failed
``Outcome`` that the dispatcher's one retry schedule takes from there (retry,
dead letter, health, auto-disable): a refusal that a grant can fix
(``AccessDenied``, a queue that is gone, a KMS key the platform may not use)
keeps failing until the tenant fixes it or the subscription is disabled, and
a throttle or a 5xx has already been retried by botocore's standard mode before
it fails the attempt.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.core import aws, jsontext
from chalicelib.core.platform import EVENT_SOURCE
from chalicelib.core.timestamps import parse_time
from chalicelib.destinations.base import Envelope, Outcome
from chalicelib.destinations.models import (
    AwsDestination,
    EventBridgeDestination,
    KinesisDestination,
    SnsDestination,
    SqsDestination,
)

# The services' own limits on one message, entry or record, with what counts towards them.
SQS_MAX_BYTES = 256 * 1024  # body and message attributes (names, types and values)
SNS_MAX_BYTES = 256 * 1024  # the same
EVENTBRIDGE_MAX_BYTES = 256 * 1024  # time (14 bytes), source, detail-type and detail
KINESIS_MAX_BYTES = 1024 * 1024  # data and partition key
MAX_GROUP_ID = 128  # FIFO MessageGroupId and MessageDeduplicationId: at most 128 of the characters ! to ~
MAX_PARTITION_KEY = 256
ERROR_LIMIT = 512
_PRINTABLE = re.compile(r"^[!-~]+$")


class TooLarge(ValueError):
    """The body (with what travels beside it) is over the service's limit: nothing is sent."""


class EntryFailed(RuntimeError):
    """EventBridge accepted the call but refused the entry, with its ``ErrorCode`` (``code``)."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(text)
        self.code = code


def send(destination: AwsDestination, envelope: Envelope) -> Outcome:
    """Write ``envelope`` to ``destination``; the ``Outcome`` the dispatcher records.

    Success is ``status_code`` 200 with the service's id of the message in ``response_body``. A refusal AWS
    answered (``ClientError``) has AWS's HTTP status (403 denied, 400 not found or invalid, 5xx) and
    ``"<Code>: <message>"`` in ``error``, prefixed ``sts:AssumeRole`` when the role session itself was refused.
    A timeout or a dropped connection, and an EventBridge entry refused inside a 200, have ``status_code``
    None. An oversize body is ``refused`` (nothing sent).
    """
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        answer = write(destination, envelope)
    except TooLarge as exc:
        return Outcome(None, elapsed(), error=str(exc), refused=True)
    except EntryFailed as exc:
        return Outcome(None, elapsed(), error=str(exc))
    except ClientError as exc:
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0) or None
        return Outcome(status, elapsed(), error=describe(exc))
    except BotoCoreError as exc:
        return Outcome(None, elapsed(), error=_bounded(f"{type(exc).__name__}: {exc}"))
    return Outcome(200, elapsed(), response_body=answer)


def write(destination: AwsDestination, envelope: Envelope) -> str:
    """The write itself: the service's ids for it, or the exception (``TooLarge``, ``EntryFailed``, botocore's)."""
    return _WRITERS[type(destination)](destination, envelope)


def describe(error: ClientError) -> str:
    """``<Code>: <message>`` of a ``ClientError``, naming the role assumption when that was refused."""
    details = error.response.get("Error", {})
    text = f"{details.get('Code', 'Unknown')}: {details.get('Message', '')}".rstrip(": ")
    if error.operation_name == "AssumeRole":
        text = f"sts:AssumeRole refused: {text}"
    return _bounded(text)


def _bounded(text: str) -> str:
    return text if len(text) <= ERROR_LIMIT else text[: ERROR_LIMIT - 3] + "..."


def attributes(envelope: Envelope) -> dict[str, str]:
    """What travels beside the body as SQS and SNS message attributes (all ``String``; an empty one is left out,
    as both services refuse it: a verification made before the subscription exists has no subscription id)."""
    values = {
        "eventId": envelope.event_id,
        "eventType": envelope.event_type,
        "timestamp": envelope.timestamp,
        "subscriptionId": envelope.subscription_id,
    }
    return {name: value for name, value in values.items() if value}


def _message_attributes(envelope: Envelope, limit: int, service: str) -> dict[str, Any]:
    values = attributes(envelope)
    size = len(envelope.body) + sum(len(k.encode()) + len(b"String") + len(v.encode()) for k, v in values.items())
    if size > limit:
        raise TooLarge(f"the message is {size} bytes with its attributes; {service} takes at most {limit}")
    return {name: {"DataType": "String", "StringValue": value} for name, value in values.items()}


def fifo_id(value: str) -> str:
    """``value`` as a FIFO group or deduplication id: itself when SQS and SNS accept it, else its SHA-256."""
    if len(value) <= MAX_GROUP_ID and _PRINTABLE.match(value):
        return value
    return hashlib.sha256(value.encode()).hexdigest()


def _fifo(envelope: Envelope) -> dict[str, str]:
    return {
        "MessageGroupId": fifo_id(envelope.ordering_value or envelope.subscription_id),
        "MessageDeduplicationId": fifo_id(envelope.deduplication_id),
    }


def _to_sqs(destination: SqsDestination, envelope: Envelope) -> str:
    request: dict[str, Any] = {
        "QueueUrl": destination.queue_url,
        "MessageBody": envelope.body.decode(),
        "MessageAttributes": _message_attributes(envelope, SQS_MAX_BYTES, "SQS"),
    }
    if destination.fifo:
        request.update(_fifo(envelope))
    response = aws.as_tenant("sqs", envelope.tenant_id).send_message(**request)
    return _answer(messageId=response.get("MessageId"), sequenceNumber=response.get("SequenceNumber"))


def _to_sns(destination: SnsDestination, envelope: Envelope) -> str:
    request: dict[str, Any] = {
        "TopicArn": destination.topic_arn,
        "Message": envelope.body.decode(),
        "MessageAttributes": _message_attributes(envelope, SNS_MAX_BYTES, "SNS"),
    }
    if destination.fifo:
        request.update(_fifo(envelope))
    response = aws.as_tenant("sns", envelope.tenant_id).publish(**request)
    return _answer(messageId=response.get("MessageId"), sequenceNumber=response.get("SequenceNumber"))


def detail(destination: EventBridgeDestination, envelope: Envelope) -> str:
    """The entry's ``Detail``: the body when it is a JSON object, else ``{"data": <body>}`` (EventBridge takes
    only objects; a transform may produce any JSON). On the platform's bus, shared by every tenant, the detail
    also carries ``tenantId``, set by the platform over any the body holds, so rules there can route by tenant
    and no tenant can speak for another."""
    text = envelope.body.decode()
    if not text.lstrip().startswith("{"):
        text = '{"data":' + text + "}"
    if not destination.platform_bus:
        return text
    return jsontext.dumps({**jsontext.loads(text), "tenantId": envelope.tenant_id})


def _to_eventbridge(destination: EventBridgeDestination, envelope: Envelope) -> str:
    text = detail(destination, envelope)
    size = 14 + len(EVENT_SOURCE) + len(envelope.event_type.encode()) + len(text.encode())
    if size > EVENTBRIDGE_MAX_BYTES:
        raise TooLarge(f"the entry is {size} bytes; EventBridge takes at most {EVENTBRIDGE_MAX_BYTES}")
    entry: Any = {
        "Source": EVENT_SOURCE,
        "DetailType": envelope.event_type,
        "Detail": text,
        "EventBusName": destination.event_bus_arn,
        "Time": parse_time(envelope.timestamp),
        "Resources": [],
    }
    client = aws.events() if destination.platform_bus else aws.as_tenant("events", envelope.tenant_id)
    response = client.put_events(Entries=[entry])
    (result,) = response.get("Entries") or [{}]
    if response.get("FailedEntryCount") or result.get("ErrorCode"):
        code = str(result.get("ErrorCode") or "Unknown")
        raise EntryFailed(code, _bounded(f"{code}: {result.get('ErrorMessage', '')}"))
    return _answer(eventId=result.get("EventId"))


def partition_key(envelope: Envelope) -> str:
    """The ordering key's value (one shard keeps its records in order); without one, the subscription for an
    ordered subscription (its events on one shard, in order) and the event id otherwise (spread over the
    shards); SHA-256 if too long."""
    key = envelope.ordering_value or (envelope.subscription_id if envelope.ordered else envelope.event_id)
    return key if len(key) <= MAX_PARTITION_KEY else hashlib.sha256(key.encode()).hexdigest()


def _to_kinesis(destination: KinesisDestination, envelope: Envelope) -> str:
    key = partition_key(envelope)
    size = len(envelope.body) + len(key.encode())
    if size > KINESIS_MAX_BYTES:
        raise TooLarge(f"the record is {size} bytes with its partition key; Kinesis takes at most {KINESIS_MAX_BYTES}")
    response = aws.as_tenant("kinesis", envelope.tenant_id).put_record(
        StreamARN=destination.stream_arn, Data=envelope.body, PartitionKey=key
    )
    return _answer(shardId=response.get("ShardId"), sequenceNumber=response.get("SequenceNumber"))


def _answer(**fields: str | None) -> str:
    """What the attempt log shows of a write: the service's ids for it."""
    return jsontext.dumps({name: value for name, value in fields.items() if value is not None})


_WRITERS: dict[type[Any], Callable[[Any, Envelope], str]] = {
    SqsDestination: _to_sqs,
    SnsDestination: _to_sns,
    EventBridgeDestination: _to_eventbridge,
    KinesisDestination: _to_kinesis,
}
