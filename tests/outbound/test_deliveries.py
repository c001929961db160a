"""Dispatch is keyed on the delivery (event and subscription): a copy of a message sends nothing twice.

Each test places the duplicate exactly: SQS handing a message out again after
its send was recorded, two copies in one batch, the record failing after the
send (the at-least-once window, documented in docs/reliability.md), and a
dead letter parked under a fresh delivery id so that a redrive is sent as asked.
A first-try success is recorded as one item, which the duplicate check, the
event's status and the attempts log all find.
"""

from __future__ import annotations

from typing import Any

from chalicelib.core import aws
from chalicelib.core.config import get_settings
from chalicelib.outbound import deliveries, dispatcher
from chalicelib.outbound.models import DispatchMessage
from tests.outbound.conftest import QueueDriver, lambda_event
from tests.outbound.helpers import attempts, fail_first, publish, statuses, subscribe
from tests.support.api_client import ApiClient
from tests.support.aws_calls import aws_calls
from tests.support.receiver import Behaviour, serve_receiver


def queued(driver: QueueDriver) -> list[dict[str, Any]]:
    """What the dispatch queue hands out now (the stream read first, as Lambda's mapping would have)."""
    driver.stream.pump()
    response = aws.sqs().receive_message(QueueUrl=driver.url, MaxNumberOfMessages=10, AttributeNames=["All"])
    return [dict(m) for m in response.get("Messages", [])]


def test_a_message_received_again_after_its_send_was_recorded_is_not_posted_again(
    client: ApiClient, driver: QueueDriver
) -> None:
    with serve_receiver() as receiver:
        subscribe(client, receiver, ["*"])
        event = publish(client, "OrderShipped", {"order": 1})
        [message] = queued(driver)
        assert driver.handler(lambda_event([message], driver.name), None) == {"batchItemFailures": []}
        # the Lambda died before SQS deleted the message: it is handed out again, the same message
        aws.sqs().change_message_visibility(
            QueueUrl=driver.url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )
        [again] = queued(driver)
        assert again["MessageId"] == message["MessageId"] and again["Attributes"]["ApproximateReceiveCount"] == "2"
        driver.invoke([again])
        assert [r.message_id for r in receiver.received] == [event["eventId"]]


def test_a_first_try_success_is_one_item_that_the_duplicate_check_the_status_and_the_log_find(
    client: ApiClient, driver: QueueDriver, tenant: str
) -> None:
    with serve_receiver() as receiver:
        sub = subscribe(client, receiver, ["*"])
        event = publish(client, "OrderShipped", {"order": 8})
        [message] = queued(driver)
        with aws_calls() as calls:
            driver.invoke([message])
        table = get_settings().table_name("attempts").encode()
        assert [c.operation for c in calls if table in c.body].count("dynamodb.PutItem") == 1
        [status] = statuses(tenant, event["eventId"])
        assert (status.subscription_id, status.status, status.attempts) == (sub["subscriptionId"], "Succeeded", 1)
        [logged] = attempts(client, sub["subscriptionId"])
        assert (logged["eventId"], logged["status"], logged["attempt"]) == (event["eventId"], "Succeeded", 1)
        shown = client.get(f"/events/{event['eventId']}").json["deliveries"]
        assert [(d["subscriptionId"], d["status"], d["attempts"]) for d in shown] == [
            (sub["subscriptionId"], "Succeeded", 1)
        ]
        aws.sqs().send_message(QueueUrl=driver.url, MessageBody=message["Body"])  # a stream retry's copy
        driver.invoke(queued(driver))
        assert [r.message_id for r in receiver.received] == [event["eventId"]]


def test_an_event_shows_a_redelivery_after_its_first_try_success(
    client: ApiClient, driver: QueueDriver, tenant: str
) -> None:
    with serve_receiver() as receiver:
        sub = subscribe(client, receiver, ["*"])
        event = publish(client, "OrderShipped", {"order": 9})
        driver.drain()
        receiver.behaviour.status = 503
        assert client.post(f"/events/{event['eventId']}/redeliver").status == 202
        driver.invoke(queued(driver))
        [status] = statuses(tenant, event["eventId"])
        assert (status.subscription_id, status.status, status.attempts) == (sub["subscriptionId"], "Retrying", 1)
        receiver.behaviour.status = None
        driver.drain()
        [status] = statuses(tenant, event["eventId"])
        assert (status.status, status.attempts) == ("Succeeded", 2)
        assert [r.answered for r in receiver.received] == [200, 503, 200]


def test_two_copies_of_a_message_in_one_batch_post_once(client: ApiClient, driver: QueueDriver) -> None:
    with serve_receiver() as receiver:
        subscribe(client, receiver, ["*"])
        event = publish(client, "OrderShipped", {"order": 2})
        [message] = queued(driver)
        aws.sqs().send_message(QueueUrl=driver.url, MessageBody=message["Body"])  # a stream retry's copy
        copies = [message, *queued(driver)]
        assert len(copies) == 2 and copies[0]["MessageId"] != copies[1]["MessageId"]
        driver.invoke(copies)
        assert [r.message_id for r in receiver.received] == [event["eventId"]]


def dispatch_while_records_fail(driver: QueueDriver, times: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The one queued message and the dispatcher's answer to it, while the first ``times`` PutItem calls fail."""
    undo = fail_first(aws.dynamodb(), "PutItem", times=times)
    try:
        [message] = queued(driver)
        return message, driver.invoke([message])
    finally:
        undo()


def test_a_record_that_fails_once_is_written_on_a_later_try_not_sent_again(
    client: ApiClient, driver: QueueDriver, tenant: str
) -> None:
    with serve_receiver() as receiver:
        subscribe(client, receiver, ["*"])
        event = publish(client, "OrderShipped", {"order": 6})
        _, result = dispatch_while_records_fail(driver, dispatcher.RECORD_TRIES - 1)
        assert result == {"batchItemFailures": []}
        driver.drain()
        assert [r.message_id for r in receiver.received] == [event["eventId"]]


def test_a_send_whose_record_failed_is_sent_again_and_only_then(
    client: ApiClient, driver: QueueDriver, tenant: str
) -> None:
    """The at-least-once window: the send happened, its record did not, so the message's return sends it again."""
    with serve_receiver() as receiver:
        subscribe(client, receiver, ["*"])
        event = publish(client, "OrderShipped", {"order": 3})
        message, failed = dispatch_while_records_fail(driver, dispatcher.RECORD_TRIES)  # the log, on every try
        assert failed == {"batchItemFailures": [{"itemIdentifier": message["MessageId"]}]}
        driver.drain()
        assert [r.message_id for r in receiver.received] == [event["eventId"]] * 2
        [status] = statuses(tenant, event["eventId"])
        assert (status.status, status.attempts) == ("Succeeded", 1)


def test_a_retried_attempt_whose_record_failed_leaves_one_follow_up_that_sends(
    client: ApiClient, driver: QueueDriver, tenant: str
) -> None:
    """Attempt 1 fails and its record fails: it is sent again and enqueues a second follow-up; one of them sends."""
    with serve_receiver(Behaviour(fail_first={"OrderShipped": 2})) as receiver:
        subscribe(client, receiver, ["*"])
        event = publish(client, "OrderShipped", {"order": 4})
        # 500, follow-up A enqueued, record failed on every try: the message comes back
        message, _ = dispatch_while_records_fail(driver, dispatcher.RECORD_TRIES)
        # Attempt 1 again, alone (A is due at once: in one batch with it, which is sent first is a race): 500,
        # follow-up B enqueued, recorded. Then A and B, both attempt 2: one of them is posted.
        driver.invoke([message])
        driver.drain()
        answers = [(r.message_id, r.answered) for r in receiver.received]
        assert answers == [(event["eventId"], 500), (event["eventId"], 500), (event["eventId"], 200)]
        [status] = statuses(tenant, event["eventId"])
        assert (status.status, status.attempts) == ("Succeeded", 2)


def test_a_dead_letter_is_parked_under_a_fresh_delivery_id_so_its_redrive_is_sent(
    client: ApiClient, driver: QueueDriver
) -> None:
    with serve_receiver(Behaviour(status=500)) as receiver:
        subscribe(client, receiver, ["*"])
        event = publish(client, "OrderShipped", {"order": 5})
        driver.drain()
        [parked] = driver.dead_letters()
        body = DispatchMessage.model_validate_json(parked["Body"])
        assert body.attempt == 1 and body.delivery_id != deliveries.delivery_id(
            event["eventId"], body.subscription_id, fresh=False
        )
        receiver.behaviour.status = None
        aws.sqs().send_message(QueueUrl=driver.url, MessageBody=parked["Body"])  # the operator's redrive
        driver.drain()
        assert receiver.accepted_ids == {event["eventId"]}


def test_a_delivery_id_is_the_same_for_every_fan_out_and_new_when_asked_for() -> None:
    derived = deliveries.delivery_id("evt_1", "sub_1", fresh=False)
    assert derived == deliveries.delivery_id("evt_1", "sub_1", fresh=False)
    assert derived != deliveries.delivery_id("evt_1", "sub_2", fresh=False)
    assert derived != deliveries.delivery_id("evt_1", "sub_1", fresh=True)


def test_the_latest_status_is_a_first_try_success_unless_a_later_delivery_was_recorded() -> None:
    """Two copies of a first attempt at once: one failed and was recorded as Retrying, the other succeeded.
    The success ends that delivery; a redelivery recorded after it is what the event shows."""
    derived = deliveries.delivery_id("evt_1", "sub_1", fresh=False)
    success = {
        "tenantId": "t",
        "subscriptionId": "sub_1",
        "eventId": "evt_1",
        "deliveryId": derived,
        "attemptId": "att-1",
        "attempt": 1,
        "status": "Succeeded",
        "statusCode": 200,
        "attemptedAt": "2026-12-07T06:00:01.000Z",
    }
    retrying = {
        "tenantId": "t",
        "subscriptionId": "sub_1",
        "deliveryId": derived,
        "status": "Retrying",
        "attempts": 1,
        "lastAttemptAt": "2026-12-07T06:00:02.000Z",
    }
    merged = deliveries.latest(retrying, success)
    assert merged is not None
    assert (merged["status"], merged["attempts"]) == ("Succeeded", 1)
    assert merged["lastAttemptAt"] == retrying["lastAttemptAt"]
    follow_up = DispatchMessage(
        tenant_id="t", subscription_id="sub_1", event_id="evt_1", event_type="X", attempt=2, delivery_id=derived
    )
    assert deliveries.already_made(follow_up, merged)
    redelivery = retrying | {"deliveryId": deliveries.delivery_id("evt_1", "sub_1", fresh=True)}
    assert deliveries.latest(redelivery, success) == redelivery
    earlier = redelivery | {"lastAttemptAt": "2026-12-07T06:00:00.000Z"}
    assert deliveries.latest(earlier, success) == deliveries.latest(None, success)
    assert deliveries.latest(None, None) is None
