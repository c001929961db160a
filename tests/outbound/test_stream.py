"""The events table's stream handler: fan-out to subscriptions, nothing on the EventBridge bus; other services'
events in from the bus."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from chalicelib.core import aws
from chalicelib.core.config import get_settings
from chalicelib.events import store as events
from tests.outbound.conftest import QueueDriver, lambda_event
from tests.outbound.helpers import dispatch_queued, fail_first, publish, subscribe
from tests.support.api_client import ApiClient
from tests.support.aws_calls import aws_calls
from tests.support.receiver import serve_receiver


@pytest.fixture
def bus_tap(local_api: object) -> Iterator[str]:
    """A queue behind a rule on the platform bus that takes every platform event, as an AWS user would add."""
    bus = get_settings().event_bus_name
    sqs, bridge = aws.sqs(), aws.events()
    url = sqs.create_queue(QueueName=f"{get_settings().resource_prefix}-tap")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bridge.put_rule(Name="tap", EventBusName=bus, EventPattern=json.dumps({"source": ["integration-platform"]}))
    bridge.put_targets(Rule="tap", EventBusName=bus, Targets=[{"Id": "tap", "Arn": arn}])
    yield url
    bridge.remove_targets(Rule="tap", EventBusName=bus, Ids=["tap"])
    bridge.delete_rule(Name="tap", EventBusName=bus)
    sqs.delete_queue(QueueUrl=url)


def tapped(url: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while messages := aws.sqs().receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            aws.sqs().delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            found.append(json.loads(message["Body"]))
    return found


def test_the_stream_puts_no_event_on_the_bus(client: ApiClient, driver: QueueDriver, bus_tap: str) -> None:
    """Issue 22: the bus carries only what an eventbridge destination asks for; before, every event went on it."""
    with serve_receiver() as receiver, aws_calls() as calls:
        subscribe(client, receiver, ["*"])
        published = publish(client, "OrderShipped", {"order": 7})
        driver.drain(until=lambda: published["eventId"] in receiver.accepted_ids)
    assert tapped(bus_tap) == []
    assert not [c for c in calls if c.operation == "events.PutEvents"]


def test_a_stream_record_whose_fan_out_answer_was_lost_is_retried_and_sent_once(
    client: ApiClient, driver: QueueDriver
) -> None:
    with serve_receiver() as receiver:
        subscribe(client, receiver, ["*"])
        published = publish(client, "OrderShipped", {"order": 8})
        undo = fail_first(aws.sqs(), "SendMessageBatch", after=True)
        try:
            assert driver.stream.pump() == 0  # reported as a batch item failure: the shard waits on it
        finally:
            undo()
        driver.drain(until=lambda: published["eventId"] in receiver.accepted_ids)
        # the failed try had already queued the webhook; the retry queues it again, under the same webhook-id
        assert {r.message_id for r in receiver.accepted()} == {published["eventId"]}


@pytest.mark.parametrize(
    "after",
    [pytest.param(False, id="fan-out fails"), pytest.param(True, id="fan-out's answer is lost after the send")],
)
def test_a_batch_failing_at_its_first_record_sends_each_event_once_after_the_retry(
    client: ApiClient, driver: QueueDriver, after: bool
) -> None:
    """Issue 21: three events, the first record fails; the receiver got {0: 1, 1: 2, 2: 2} before."""
    with serve_receiver() as receiver:
        subscribe(client, receiver, ["*"])
        ids = [publish(client, "OrderShipped", {"order": n})["eventId"] for n in range(3)]
        undo = fail_first(aws.sqs(), "SendMessageBatch", after=after)
        try:
            assert driver.stream.pump() == 0  # one batch of three; it stopped at the first
        finally:
            undo()
        dispatch_queued(driver)  # whatever the failed try queued is sent before the stream retries
        assert driver.stream.pump() == 3
        driver.drain(until=lambda: set(ids) <= receiver.accepted_ids)
        copies = Counter(r.message_id for r in receiver.received)
        assert {n: copies[event_id] for n, event_id in enumerate(ids)} == {0: 1, 1: 1, 2: 1}


def refuse_one_entry(number: int) -> Callable[[], None]:
    """SQS refuses entry ``number`` (counted across requests) of the SendMessageBatch calls that follow: it is
    left out of the request and reported ``Failed`` in the answer, as SQS does. Returns the undo."""
    seen = [0]
    refused: list[str] = []

    def drop(params: dict[str, Any], **_: Any) -> None:
        entries = params["Entries"]
        if seen[0] <= number < seen[0] + len(entries):
            refused.append(entries.pop(number - seen[0])["Id"])
        seen[0] += len(entries) + len(refused)

    def report(parsed: dict[str, Any], **_: Any) -> None:
        while refused:
            failure = {"Id": refused.pop(), "SenderFault": False, "Code": "InternalError", "Message": "injected"}
            parsed.setdefault("Failed", []).append(failure)

    hooks = aws.sqs().meta.events
    hooks.register("provide-client-params.sqs.SendMessageBatch", drop, unique_id="refuse-one-entry")
    hooks.register("after-call.sqs.SendMessageBatch", report, unique_id="report-one-entry")

    def undo() -> None:
        hooks.unregister("provide-client-params.sqs.SendMessageBatch", unique_id="refuse-one-entry")
        hooks.unregister("after-call.sqs.SendMessageBatch", unique_id="report-one-entry")

    return undo


def fail_second_request() -> Callable[[], None]:
    """The second SendMessageBatch that follows fails whole, as a throttled SQS answers; returns the undo."""
    from botocore.exceptions import ClientError

    calls = [0]

    def refuse(**_: Any) -> None:
        calls[0] += 1
        if calls[0] == 2:
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "injected"}}, "SendMessageBatch")

    hooks = aws.sqs().meta.events
    hooks.register("before-call.sqs.SendMessageBatch", refuse, unique_id="fail-second-request")
    return lambda: hooks.unregister("before-call.sqs.SendMessageBatch", unique_id="fail-second-request")


@pytest.mark.parametrize(
    "refusal",
    [
        pytest.param(fail_second_request, id="the second request fails"),
        pytest.param(lambda: refuse_one_entry(10), id="one entry of the second request is refused"),
    ],
)
def test_a_batch_of_events_is_enqueued_ten_messages_to_a_request_and_a_refusal_loses_and_repeats_nothing(
    client: ApiClient, driver: QueueDriver, refusal: Callable[[], Callable[[], None]]
) -> None:
    """Six events to four subscribers: 24 messages in three SendMessageBatch requests, not six. Message 10 is the
    third event's third: the stream retries from that event, and every subscriber gets every event once."""
    with ExitStack() as stack:
        receivers = [stack.enter_context(serve_receiver()) for _ in range(4)]
        for receiver in receivers:
            subscribe(client, receiver, ["OrderShipped"])
        driver.stream.pump()  # the subscriptions' own platform events, if any, out of the way
        ids = [publish(client, "OrderShipped", {"order": n})["eventId"] for n in range(6)]
        with aws_calls() as calls:
            assert driver.stream.pump() == 6
        assert [c.operation for c in calls].count("sqs.SendMessageBatch") == 3
        dispatch_queued(driver)
        ids += [publish(client, "OrderShipped", {"order": n})["eventId"] for n in range(6, 12)]
        undo = refusal()
        try:
            assert driver.stream.pump() == 2, "done: the two events before the one whose messages were not all taken"
        finally:
            undo()
        dispatch_queued(driver)  # what the failed try enqueued is sent before the stream retries
        assert driver.stream.pump() == 4
        driver.drain(until=lambda: all(set(ids) <= r.accepted_ids for r in receivers))
        for receiver in receivers:
            assert Counter(r.message_id for r in receiver.received) == dict.fromkeys(ids, 1)


def test_modifications_and_removals_of_event_items_are_not_fanned_out(
    client: ApiClient, driver: QueueDriver, tenant: str
) -> None:
    with serve_receiver() as receiver:
        subscribe(client, receiver, ["*"])
        published = publish(client, "OrderShipped", {"order": 9})
        driver.drain(until=lambda: bool(receiver.accepted()))
        events.TABLE.update(tenant, published["eventId"], {"note": "touched"})
        events.TABLE.delete(tenant, published["eventId"])
        driver.drain()
        assert len(receiver.received) == 1


def bus_event(detail: dict[str, Any], source: str = "billing") -> str:
    """Put one event on the platform bus as another service would; the rule routes it to the bus-events queue."""
    response = aws.events().put_events(
        Entries=[
            {
                "Source": source,
                "DetailType": "x",
                "Detail": json.dumps(detail),
                "EventBusName": get_settings().event_bus_name,
            }
        ]
    )
    return str(response["Entries"][0]["EventId"])


def run_bus_events() -> None:
    from app import bus_events

    name = get_settings().queue_name("bus-events")
    url = aws.sqs().get_queue_url(QueueName=name)["QueueUrl"]
    while messages := aws.sqs().receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        result = bus_events(lambda_event([dict(m) for m in messages], name), None)
        assert result == {"batchItemFailures": []}
        for message in messages:
            aws.sqs().delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def test_events_other_services_put_on_the_bus_reach_subscriptions_once(
    client: ApiClient, driver: QueueDriver, tenant: str
) -> None:
    with serve_receiver() as receiver:
        subscribe(client, receiver, ["InvoicePaid"])
        bus_event({"tenantId": tenant, "type": "InvoicePaid", "data": {"invoice": "in_1"}})
        bus_event({"tenantId": tenant, "type": "Ignored", "data": {}}, source="integration-platform")  # our own
        bus_event({"tenantId": tenant, "data": {}})  # no type: the rule does not match
        run_bus_events()
        driver.drain(until=lambda: bool(receiver.accepted()))
        [received] = receiver.accepted()
        assert received.body["type"] == "InvoicePaid" and received.body["data"] == {"invoice": "in_1"}
        recorded = events.get(tenant, received.message_id)
        assert recorded is not None and recorded.source == "eventbridge:billing" and recorded.origin == "eventbridge"


def test_a_redelivered_bus_event_is_recorded_once_and_a_malformed_one_is_dropped(
    client: ApiClient, driver: QueueDriver, tenant: str
) -> None:
    from chalicelib.events import bus

    message = {"id": "eb-1", "source": "billing", "detail": {"tenantId": tenant, "type": "InvoicePaid", "data": {}}}
    first, again = bus.receive(message), bus.receive(message)
    assert first.event_id == again.event_id
    assert [e["type"] for e in events.TABLE.query(tenant, limit=10, cursor=None).items] == ["InvoicePaid"]
    for malformed in (
        {"detail": {"tenantId": tenant, "type": "X", "data": []}},
        {"detail": {"tenantId": "bad tenant!", "type": "X"}},
        {"detail": "text"},
    ):
        with pytest.raises(bus.BusEventRejected):
            bus.receive(malformed)


def test_a_bus_event_that_failed_every_try_is_recorded_from_its_dead_letter(
    client: ApiClient, driver: QueueDriver, tenant: str
) -> None:
    from app import bus_event_dead_letters

    name = get_settings().dead_letter_queue_name("bus-events")
    url = aws.sqs().get_queue_url(QueueName=name)["QueueUrl"]
    body = {"id": "eb-dead-1", "source": "billing", "detail": {"tenantId": tenant, "type": "InvoicePaid", "data": {}}}
    aws.sqs().send_message(QueueUrl=url, MessageBody=json.dumps(body))
    messages = aws.sqs().receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    mine = [dict(m) for m in messages if tenant in m["Body"]]
    assert bus_event_dead_letters(lambda_event(mine, name), None) == {"batchItemFailures": []}
    for message in messages:
        aws.sqs().delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert [e["type"] for e in events.TABLE.query(tenant, limit=10, cursor=None).items] == ["InvoicePaid"]


def test_a_bus_message_nested_past_any_parser_is_rejected_and_acknowledged(tenant: str, local_api: object) -> None:
    """The bus receiver reads with the guarded reader: no RecursionError, so no retry until the dead-letter queue."""
    from app import bus_events

    deep = "[" * 1000 + "]" * 1000
    detail = f'{{"tenantId": "{tenant}", "type": "X", "data": {deep}}}'
    body = f'{{"id": "eb-deep", "source": "billing", "detail": {detail}}}'
    record = {"messageId": "m-deep", "receiptHandle": "r", "body": body, "attributes": {}}
    assert bus_events({"Records": [record]}, None) == {"batchItemFailures": []}
    assert events.TABLE.query(tenant, limit=10, cursor=None).items == []
