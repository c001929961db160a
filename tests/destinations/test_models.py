"""Destination shapes: the discriminated union, and ARNs of the wrong service, shape or region refused with why."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

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


VALID: list[tuple[dict[str, object], type[object]]] = [
    ({"type": "webhook", "url": "https://example.com/hook"}, WebhookDestination),
    ({"type": "sqs", "queueArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders"}, SqsDestination),
    ({"type": "sqs", "queueArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders.fifo"}, SqsDestination),
    ({"type": "sns", "topicArn": f"arn:aws:sns:us-east-1:{ACCOUNT}:orders"}, SnsDestination),
    (
        {"type": "eventbridge", "eventBusArn": f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/default"},
        EventBridgeDestination,
    ),
    ({"type": "kinesis", "streamArn": f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/orders"}, KinesisDestination),
]


@pytest.mark.parametrize(("document", "model"), VALID)
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


WRONG: list[tuple[dict[str, object], str]] = [
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
]


@pytest.mark.parametrize(("document", "says"), WRONG)
def test_a_wrong_arn_says_what_is_wrong(document: dict[str, object], says: str) -> None:
    assert says in refusal(document)


def test_the_region_is_the_platforms(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.core.env import settings_env

    with settings_env(monkeypatch, AWS_REGION="eu-west-1"):
        assert isinstance(parse({"type": "sqs", "queueArn": f"arn:aws:sqs:eu-west-1:{ACCOUNT}:q"}), SqsDestination)
        assert "region 'us-east-1'" in refusal({"type": "sqs", "queueArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:q"})


def test_the_documented_pattern_is_the_check() -> None:
    """The OpenAPI pattern of each ARN field accepts exactly what the model does (as schemathesis's ST202 asks: a
    request the document calls valid is not a 400), for every case above and the valid ones."""
    import re

    models: dict[str, type[BaseModel]] = {
        "sqs": SqsDestination,
        "sns": SnsDestination,
        "eventbridge": EventBridgeDestination,
        "kinesis": KinesisDestination,
    }
    fields: dict[str, tuple[str, str]] = {}
    for kind, model in models.items():
        properties = model.model_json_schema(by_alias=True)["properties"]
        [name] = [n for n in properties if n != "type"]
        fields[kind] = (name, properties[name]["pattern"])
    checked = 0
    for case in WRONG + VALID:
        document = case[0]
        if document["type"] not in fields or set(document) != {"type", fields[str(document["type"])][0]}:
            continue  # a webhook, or wrong for another reason than its ARN
        name, pattern = fields[str(document["type"])]
        valid = True
        try:
            parse(document)
        except ValidationError:
            valid = False
        assert bool(re.match(str(pattern), str(document[name]))) is valid, document
        checked += 1
    assert checked >= 15
