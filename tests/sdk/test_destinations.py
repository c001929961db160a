"""``integration_platform.destinations``: the five shapes as the API reads them, and a subscription's read back.

Against the local runtime: a subscription on the platform's own bus (``GET /events/bus``; no resource policy to
grant) is created, read and changed back to a webhook through ``Client``; an ARN of the wrong service is the
API's 400, before any AWS call.
"""

from __future__ import annotations

from typing import cast

import pytest
from integration_platform import BadRequestError, Client, destinations, models

from tests.support.receiver import Receiver

ARN = "arn:aws:{}:us-east-1:111122223333:{}"


def test_each_helper_builds_the_wire_shape_and_reads_back_its_target() -> None:
    shapes: list[tuple[models.Destination, str]] = [
        (destinations.webhook("https://example.com/h"), "webhook https://example.com/h"),
        (destinations.sqs(ARN.format("sqs", "q.fifo")), f"sqs {ARN.format('sqs', 'q.fifo')}"),
        (destinations.sns(ARN.format("sns", "t")), f"sns {ARN.format('sns', 't')}"),
        (
            destinations.eventbridge(ARN.format("events", "event-bus/b")),
            f"eventbridge {ARN.format('events', 'event-bus/b')}",
        ),
        (destinations.kinesis(ARN.format("kinesis", "stream/s")), f"kinesis {ARN.format('kinesis', 'stream/s')}"),
    ]
    assert [destinations.describe(shape) for shape, _ in shapes] == [text for _, text in shapes]
    assert destinations.sqs("arn:q") == {"type": "sqs", "queueArn": "arn:q"}
    assert destinations.describe({"url": "https://example.com/h"}) == "webhook https://example.com/h"  # type defaults


def test_a_subscription_read_from_an_older_platform_is_its_webhook() -> None:
    older = cast(models.Subscription, {"subscriptionId": "sub-1", "endpointUrl": "https://example.com/h"})
    assert destinations.of(older) == {"type": "webhook", "url": "https://example.com/h"}


def test_a_subscription_on_the_platform_bus_is_created_read_and_moved_back_to_a_webhook(
    client: Client, receiver: Receiver
) -> None:
    bus = client.get_event_bus()
    assert bus["source"] == "integration-platform" and bus["eventBusArn"].endswith(f":event-bus/{bus['eventBusName']}")
    created = client.create_subscription(
        {"eventTypes": ["OrderShipped"], "destination": destinations.eventbridge(bus["eventBusArn"])}
    )
    assert created["destination"] == {"type": "eventbridge", "eventBusArn": bus["eventBusArn"]}
    assert "signingSecret" not in created or created["signingSecret"] is None  # only a webhook is signed
    listed = {s["subscriptionId"]: s for s in client.iter_subscriptions()}
    assert destinations.of(listed[created["subscriptionId"]]) == created["destination"]
    moved = client.update_subscription(created["subscriptionId"], {"destination": destinations.webhook(receiver.url)})
    assert moved["destination"] == {"type": "webhook", "url": receiver.url} and moved["endpointUrl"] == receiver.url


def test_an_arn_of_the_wrong_service_is_the_apis_400(client: Client) -> None:
    with pytest.raises(BadRequestError) as refused:
        client.create_subscription({"eventTypes": ["*"], "destination": destinations.sqs(ARN.format("sns", "t"))})
    assert refused.value.status == 400
