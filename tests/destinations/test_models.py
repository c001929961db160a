"""Destination shapes: the discriminated union, and ARNs of the wrong service, shape or region refused with why."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from chalicelib.destinations.models import (
    Destination,
    EventBridgeDestination,
    KinesisDestination,
    SnsDestination,
    SqsDestination,
    WebhookDestination,
)

DESTINATION: TypeAdapter[Destination] = TypeAdapter(Destination)
ACCOUNT = "111122223333"


def parse(document: dict[str, object]) -> Destination:
    return DESTINATION.validate_python(document)


def refusal(document: dict[str, object]) -> str:
    with pytest.raises(ValidationError) as caught:
        parse(document)
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in caught.value.errors())


@pytest.mark.parametrize(
    ("document", "model"),
    [
        ({"type": "webhook", "url": "https://example.com/hook"}, WebhookDestination),
        ({"type": "sqs", "queueArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders"}, SqsDestination),
        ({"type": "sqs", "queueArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders.fifo"}, SqsDestination),
        ({"type": "sns", "topicArn": f"arn:aws:sns:us-east-1:{ACCOUNT}:orders"}, SnsDestination),
        (
            {"type": "eventbridge", "eventBusArn": f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/default"},
            EventBridgeDestination,
        ),
        ({"type": "kinesis", "streamArn": f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/orders"}, KinesisDestination),
    ],
)
def test_each_type_parses_to_its_model_and_back(document: dict[str, object], model: type[object]) -> None:
    parsed = parse(document)
    assert isinstance(parsed, model)
    assert parsed.model_dump(by_alias=True) == document


def test_fifo_and_the_arn_parts() -> None:
    queue = parse({"type": "sqs", "queueArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders.fifo"})
    assert isinstance(queue, SqsDestination)
    assert (queue.fifo, queue.arn.account, queue.arn.resource) == (True, ACCOUNT, "orders.fifo")
    topic = parse({"type": "sns", "topicArn": f"arn:aws:sns:us-east-1:{ACCOUNT}:orders"})
    assert isinstance(topic, SnsDestination) and not topic.fifo


@pytest.mark.parametrize(
    ("document", "says"),
    [
        ({"type": "sqs", "queueArn": f"arn:aws:sns:us-east-1:{ACCOUNT}:orders"}, "the sns service, not an SQS queue"),
        ({"type": "sns", "topicArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders"}, "the sqs service, not an SNS topic"),
        ({"type": "kinesis", "streamArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders"}, "not a Kinesis data stream"),
        (
            {"type": "eventbridge", "eventBusArn": f"arn:aws:events:us-east-1:{ACCOUNT}:rule/orders"},
            "not an EventBridge",
        ),
        ({"type": "kinesis", "streamArn": f"arn:aws:kinesis:us-east-1:{ACCOUNT}:orders"}, "not a Kinesis data stream"),
        ({"type": "sqs", "queueArn": "https://sqs.us-east-1.amazonaws.com/111122223333/orders"}, "not an ARN"),
        ({"type": "sqs", "queueArn": "arn:aws:sqs:us-east-1:1234:orders"}, "not an ARN"),
        ({"type": "sqs", "queueArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:bad name"}, "not an SQS queue ARN"),
        ({"type": "sqs", "queueArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:{'q' * 81}"}, "not an SQS queue ARN"),
        ({"type": "sqs", "queueArn": f"arn:aws:sqs:eu-west-1:{ACCOUNT}:orders"}, "region 'eu-west-1'"),
        ({"type": "sns", "topicArn": f"arn:aws:sns:us-west-2:{ACCOUNT}:orders"}, "writes only to us-east-1"),
        ({"type": "sqs", "url": "https://example.com"}, "queueArn: Field required"),
        ({"type": "ftp", "url": "ftp://example.com"}, "does not match any of the expected tags"),
        ({"type": "sqs", "queueArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:q", "topicArn": "x"}, "Extra inputs"),
    ],
)
def test_a_wrong_arn_says_what_is_wrong(document: dict[str, object], says: str) -> None:
    assert says in refusal(document)


def test_the_region_is_the_platforms(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.core.env import settings_env

    with settings_env(monkeypatch, AWS_REGION="eu-west-1"):
        assert isinstance(parse({"type": "sqs", "queueArn": f"arn:aws:sqs:eu-west-1:{ACCOUNT}:q"}), SqsDestination)
        assert "region 'us-east-1'" in refusal({"type": "sqs", "queueArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:q"})
