"""A subscription request's rules, as the model checks them and as the OpenAPI document states them."""

from __future__ import annotations

import json
from typing import Any

import jsonschema_rs
import pytest
from pydantic import ValidationError

from chalicelib.core.config import get_settings
from chalicelib.outbound.subscription_requests import CreateSubscriptionRequest, UpdateSubscriptionRequest

ACCOUNT = "111122223333"


def destinations() -> dict[str, tuple[dict[str, str], bool]]:
    """Each kind of destination, and whether it keeps order."""
    region, bus = get_settings().region, "event-bus/orders"
    return {
        "webhook": ({"type": "webhook", "url": "https://example.com/hook"}, True),
        "sqs": ({"type": "sqs", "queueArn": f"arn:aws:sqs:{region}:{ACCOUNT}:orders"}, False),
        "sqs fifo": ({"type": "sqs", "queueArn": f"arn:aws:sqs:{region}:{ACCOUNT}:orders.fifo"}, True),
        "sns": ({"type": "sns", "topicArn": f"arn:aws:sns:{region}:{ACCOUNT}:orders"}, False),
        "sns fifo": ({"type": "sns", "topicArn": f"arn:aws:sns:{region}:{ACCOUNT}:orders.fifo"}, True),
        "eventbridge": (
            {"type": "eventbridge", "eventBusArn": f"arn:aws:events:{region}:{ACCOUNT}:{bus}"},
            False,
        ),
        "kinesis": ({"type": "kinesis", "streamArn": f"arn:aws:kinesis:{region}:{ACCOUNT}:stream/orders"}, True),
    }


def document_schema(name: str) -> dict[str, Any]:
    import app  # noqa: F401  (registers every operation)
    from chalicelib.api.openapi import document_json

    document: dict[str, Any] = json.loads(document_json())
    return {**document["components"]["schemas"][name], "components": document["components"]}


def documented_valid(name: str, body: dict[str, Any]) -> bool:
    return bool(jsonschema_rs.validator_for(document_schema(name)).is_valid(body))


@pytest.mark.parametrize("kind", list(destinations()))
@pytest.mark.parametrize(
    ("name", "model", "base"),
    [
        ("CreateSubscriptionRequest", CreateSubscriptionRequest, {"eventTypes": ["*"]}),
        ("UpdateSubscriptionRequest", UpdateSubscriptionRequest, {}),
    ],
)
def test_ordered_delivery_is_refused_where_order_cannot_hold_and_the_document_says_so(
    kind: str, name: str, model: Any, base: dict[str, Any]
) -> None:
    destination, keeps_order = destinations()[kind]
    body = {**base, "destination": destination, "delivery": "ordered"}
    assert documented_valid(name, body) is keeps_order, body
    assert documented_valid(name, {**body, "delivery": "unordered"})
    if model is UpdateSubscriptionRequest:  # an update's rule needs the stored subscription: the service checks it
        return
    if keeps_order:
        model.model_validate(body)
    else:
        with pytest.raises(ValidationError, match="keeps order"):
            model.model_validate(body)
