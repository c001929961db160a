"""The four writers on moto: what a tenant's consumer receives, and every failure as a failed Outcome, never a raise."""

from __future__ import annotations

import dataclasses
import json
import secrets
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from chalicelib.core import aws as clients
from chalicelib.core.config import get_settings
from chalicelib.core.faults import LambdaCrashed, crash_after
from chalicelib.destinations import delivery
from chalicelib.destinations.base import Envelope
from chalicelib.destinations.models import (
    AwsDestination,
    EventBridgeDestination,
    KinesisDestination,
    SnsDestination,
    SqsDestination,
)
from tests.destinations.conftest import Queue

ATTRIBUTES = ("eventId", "eventType", "timestamp", "subscriptionId")


def attributes_of(message: dict[str, Any]) -> dict[str, str]:
    return {name: value["StringValue"] for name, value in message.get("MessageAttributes", {}).items()}


def expected_attributes(envelope: Envelope) -> dict[str, str]:
    return {
        "eventId": envelope.event_id,
        "eventType": envelope.event_type,
        "timestamp": envelope.timestamp,
        "subscriptionId": envelope.subscription_id,
    }


def test_sqs_receives_the_body_exactly_with_the_attributes(
    make_queue: Callable[..., Queue], envelope: Envelope
) -> None:
    queue = make_queue()
    outcome = delivery.send(SqsDestination(type="sqs", queue_arn=queue.arn), envelope)
    assert outcome.succeeded and outcome.status_code == 200, outcome
    (message,) = queue.receive()
    assert message["Body"].encode() == envelope.body  # 1.10 and the 30-digit integer untouched
    assert attributes_of(message) == expected_attributes(envelope)
    assert json.loads(outcome.response_body or "")["messageId"] == message["MessageId"]


def test_a_fifo_queue_groups_by_ordering_value_and_drops_a_copy(
    make_queue: Callable[..., Queue], envelope: Envelope
) -> None:
    queue = make_queue(fifo=True)
    destination = SqsDestination(type="sqs", queue_arn=queue.arn)
    keyed = dataclasses.replace(envelope, ordering_value="repo-42", deduplication_id="dlv-2")
    for sent in (envelope, keyed, keyed):  # the third is a copy of the second (a redelivered dispatch message)
        assert delivery.send(destination, sent).succeeded
    messages = queue.receive()
    groups = [m["Attributes"]["MessageGroupId"] for m in messages]
    assert sorted(groups) == sorted([envelope.subscription_id, "repo-42"])
    assert sorted(m["Attributes"]["MessageDeduplicationId"] for m in messages) == ["dlv-1", "dlv-2"]


def test_an_id_fifo_refuses_is_hashed() -> None:
    assert delivery.fifo_id("sub-1:repo 42") != "sub-1:repo 42"
    assert len(delivery.fifo_id("x" * 200)) == 64
    assert delivery.fifo_id("sub-1:repo-42") == "sub-1:repo-42"


def test_sns_publishes_the_body_with_the_attributes(make_queue: Callable[..., Queue], envelope: Envelope) -> None:
    queue = make_queue()
    topic = boto3.client("sns").create_topic(Name=f"topic-{secrets.token_hex(4)}")["TopicArn"]
    boto3.client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue.arn)
    outcome = delivery.send(SnsDestination(type="sns", topic_arn=topic), envelope)
    assert outcome.succeeded, outcome
    (message,) = queue.receive()
    notification = json.loads(message["Body"])
    assert notification["Message"].encode() == envelope.body
    assert {k: v["Value"] for k, v in notification["MessageAttributes"].items()} == expected_attributes(envelope)


def test_a_fifo_topic_gets_the_group_and_deduplication_ids(
    make_queue: Callable[..., Queue], envelope: Envelope
) -> None:
    queue = make_queue(fifo=True)
    topic = boto3.client("sns").create_topic(
        Name=f"topic-{secrets.token_hex(4)}.fifo", Attributes={"FifoTopic": "true"}
    )["TopicArn"]
    boto3.client("sns").subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=queue.arn, Attributes={"RawMessageDelivery": "true"}
    )
    keyed = dataclasses.replace(envelope, ordering_value="repo-42")
    assert delivery.send(SnsDestination(type="sns", topic_arn=topic), keyed).succeeded
    (message,) = queue.receive()
    assert message["Body"].encode() == envelope.body
    assert message["Attributes"]["MessageGroupId"] == "repo-42"


def bus_queue(make_queue: Callable[..., Queue], bus: str, pattern: dict[str, Any]) -> Queue:
    """A rule on ``bus`` sending what ``pattern`` matches to a new queue: how a consumer reads a bus."""
    queue = make_queue("-bus")
    events = boto3.client("events")
    rule = f"rule-{secrets.token_hex(4)}"
    events.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "queue", "Arn": queue.arn}])
    return queue


def test_eventbridge_carries_source_type_and_time_and_the_body_as_detail(
    make_queue: Callable[..., Queue], envelope: Envelope
) -> None:
    bus = boto3.client("events").create_event_bus(Name=f"bus-{secrets.token_hex(4)}")["EventBusArn"]
    queue = bus_queue(make_queue, bus.rsplit("/", 1)[1], {"source": ["integration-platform"]})
    outcome = delivery.send(EventBridgeDestination(type="eventbridge", event_bus_arn=bus), envelope)
    assert outcome.succeeded, outcome
    (message,) = queue.receive()
    event = json.loads(message["Body"])
    assert (event["source"], event["detail-type"], event["time"]) == (
        "integration-platform",
        envelope.event_type,
        "2026-12-07T06:00:00Z",
    )
    assert event["detail"] == json.loads(envelope.body)
    assert json.loads(outcome.response_body or "")["eventId"] == event["id"]


@pytest.mark.parametrize(("body", "detail"), [(b'"just text"', '{"data":"just text"}'), (b"[1, 2]", '{"data":[1, 2]}')])
def test_a_body_that_is_not_an_object_travels_as_data(envelope: Envelope, body: bytes, detail: str) -> None:
    destination = EventBridgeDestination(
        type="eventbridge", event_bus_arn="arn:aws:events:us-east-1:111122223333:event-bus/b"
    )
    assert delivery.detail(destination, dataclasses.replace(envelope, body=body)) == detail


def calls_of(client: Any) -> list[dict[str, Any]]:
    """The request contexts of ``client``'s calls from now on."""
    seen: list[dict[str, Any]] = []
    client.meta.events.register("before-parameter-build", lambda context, **_: seen.append(context))
    return seen


def test_the_platform_bus_is_written_under_the_functions_role_with_the_tenant_set(
    make_queue: Callable[..., Queue], envelope: Envelope, tenant: str
) -> None:
    """No tenant session: the bus is the platform's. The detail's tenantId is the platform's word, whatever a
    transform put in the body, so rules on the shared bus can trust it."""
    queue = bus_queue(make_queue, get_settings().event_bus_name, {"detail": {"tenantId": [tenant]}})
    own, assumed = calls_of(clients.events()), calls_of(clients.as_tenant("events", tenant))
    spoofing = dataclasses.replace(envelope, body=b'{"tenantId":"someone-else","total":1.10}')
    outcome = delivery.send(
        EventBridgeDestination(type="eventbridge", event_bus_arn=get_settings().event_bus_arn), spoofing
    )
    assert outcome.succeeded, outcome
    assert (len(own), assumed) == (1, [])
    assert clients.ASSUMED_ROLE not in own[0]
    (message,) = queue.receive()
    assert json.loads(message["Body"])["detail"] == {"tenantId": tenant, "total": 1.1}


def test_a_refused_entry_is_a_failed_outcome_with_its_code(envelope: Envelope) -> None:
    """PutEvents answers 200 with the entry refused (moto never refuses one): AWS's answer, stubbed."""
    bus = "arn:aws:events:us-east-1:123456789012:event-bus/tenant-bus"
    client = clients.as_tenant("events", envelope.tenant_id)
    with Stubber(client) as stub:
        stub.add_response(
            "put_events",
            {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "AccessDeniedException", "ErrorMessage": "denied"}]},
        )
        outcome = delivery.send(EventBridgeDestination(type="eventbridge", event_bus_arn=bus), envelope)
    assert (outcome.succeeded, outcome.status_code, outcome.error) == (False, None, "AccessDeniedException: denied")


def test_kinesis_partitions_by_ordering_value_else_event_id(aws: None, envelope: Envelope) -> None:
    kinesis = boto3.client("kinesis")
    name = f"stream-{secrets.token_hex(4)}"
    kinesis.create_stream(StreamName=name, ShardCount=1)
    stream = kinesis.describe_stream(StreamName=name)["StreamDescription"]
    destination = KinesisDestination(type="kinesis", stream_arn=stream["StreamARN"])
    assert delivery.send(destination, envelope).succeeded
    outcome = delivery.send(destination, dataclasses.replace(envelope, ordering_value="repo-42"))
    assert outcome.succeeded and json.loads(outcome.response_body or "")["shardId"]
    iterator = kinesis.get_shard_iterator(
        StreamName=name, ShardId=stream["Shards"][0]["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = kinesis.get_records(ShardIterator=iterator)["Records"]
    assert [(r["PartitionKey"], r["Data"]) for r in records] == [
        (envelope.event_id, envelope.body),
        ("repo-42", envelope.body),
    ]
    assert len(delivery.partition_key(dataclasses.replace(envelope, ordering_value="k" * 300))) == 64


@pytest.mark.parametrize(
    ("kind", "limit"),
    [("sqs", delivery.SQS_MAX_BYTES), ("sns", delivery.SNS_MAX_BYTES), ("eventbridge", delivery.EVENTBRIDGE_MAX_BYTES)],
)
def test_an_oversize_body_is_refused_and_nothing_sent(
    make_queue: Callable[..., Queue], envelope: Envelope, kind: str, limit: int
) -> None:
    """The limit counts what travels with the body: a body of exactly the limit is already over it."""
    queue = make_queue()
    topic = boto3.client("sns").create_topic(Name=f"topic-{secrets.token_hex(4)}")["TopicArn"]
    boto3.client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue.arn)
    bus = boto3.client("events").create_event_bus(Name=f"bus-{secrets.token_hex(4)}")["EventBusArn"]
    watched = bus_queue(make_queue, bus.rsplit("/", 1)[1], {"source": ["integration-platform"]})
    destinations: dict[str, AwsDestination] = {
        "sqs": SqsDestination(type="sqs", queue_arn=queue.arn),
        "sns": SnsDestination(type="sns", topic_arn=topic),
        "eventbridge": EventBridgeDestination(type="eventbridge", event_bus_arn=bus),
    }
    destination = destinations[kind]
    body = b'{"pad":"' + b"x" * (limit - 10) + b'"}'
    outcome = delivery.send(destination, dataclasses.replace(envelope, body=body))
    assert (outcome.succeeded, outcome.refused) == (False, True)
    assert f"at most {limit}" in (outcome.error or "")
    assert queue.receive() == [] and watched.receive() == []


def test_an_oversize_record_is_refused(envelope: Envelope) -> None:
    destination = KinesisDestination(type="kinesis", stream_arn="arn:aws:kinesis:us-east-1:123456789012:stream/s")
    body = b"x" * delivery.KINESIS_MAX_BYTES
    outcome = delivery.send(destination, dataclasses.replace(envelope, body=body))
    assert outcome.refused and f"at most {delivery.KINESIS_MAX_BYTES}" in (outcome.error or "")


@pytest.mark.parametrize(
    ("destination", "code"),
    [
        (SqsDestination(type="sqs", queue_arn="arn:aws:sqs:us-east-1:123456789012:gone"), "NonExistentQueue"),
        (SnsDestination(type="sns", topic_arn="arn:aws:sns:us-east-1:123456789012:gone"), "NotFound"),
        (
            EventBridgeDestination(
                type="eventbridge", event_bus_arn="arn:aws:events:us-east-1:123456789012:event-bus/gone"
            ),
            "ResourceNotFoundException",
        ),
        (
            KinesisDestination(type="kinesis", stream_arn="arn:aws:kinesis:us-east-1:123456789012:stream/gone"),
            "ResourceNotFoundException",
        ),
    ],
)
def test_a_missing_destination_is_a_failed_outcome_naming_aws_code(
    aws: None, envelope: Envelope, destination: Any, code: str
) -> None:
    outcome = delivery.send(destination, envelope)
    assert not outcome.succeeded and outcome.status_code is not None and outcome.status_code >= 400
    assert code in (outcome.error or ""), outcome


def test_throttles_and_timeouts_fail_the_attempt_and_send_nothing(
    faulty: Callable[[str], None], make_queue: Callable[..., Queue], envelope: Envelope
) -> None:
    """Every SQS attempt faulted (throttle, 500 or timeout), botocore's retries included: a failed Outcome the
    dispatcher's schedule retries, with the AWS status or None for a timeout."""
    queue = make_queue()
    faulty("sqs=1")
    outcomes = [delivery.send(SqsDestination(type="sqs", queue_arn=queue.arn), envelope) for _ in range(6)]
    assert not any(o.succeeded for o in outcomes)
    for outcome in outcomes:
        assert outcome.status_code in (None, 400, 500)
        assert "injected" in (outcome.error or "") or "Timeout" in (outcome.error or ""), outcome
    assert queue.receive() == []


def test_a_crash_right_after_the_write_leaves_it_written(make_queue: Callable[..., Queue], envelope: Envelope) -> None:
    """The Lambda dies after SendMessage: the crash is not swallowed as a failed Outcome, so the dispatch
    message comes back and is sent again (at least once); the message is there."""
    queue = make_queue()
    destination = SqsDestination(type="sqs", queue_arn=queue.arn)
    with pytest.raises(LambdaCrashed), crash_after(1, services={"sqs"}):
        delivery.send(destination, envelope)
    assert len(queue.receive()) == 1


def test_a_role_session_that_cannot_be_made_fails_the_attempt_naming_sts(
    faulty: Callable[[str], None], make_queue: Callable[..., Queue], envelope: Envelope
) -> None:
    """STS failing (every AssumeRole attempt faulted) is the attempt's failure, said to be the role's."""
    queue = make_queue()
    faulty("sts=1")
    outcome = delivery.send(SqsDestination(type="sqs", queue_arn=queue.arn), envelope)
    assert not outcome.succeeded
    assert (outcome.error or "").startswith("sts:AssumeRole refused: "), outcome
    assert queue.receive() == []
