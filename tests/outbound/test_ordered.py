"""Ordered delivery: the FIFO queue, a failed message holding back only its own group, and its release.

``FifoDriver`` plays Lambda's part for ``<prefix>-outbound-ordered.fifo``: it
receives from the moto FIFO queue (which hands out a group's messages in order
and nothing of a group while one of its messages is in flight), calls the real
``outbound_ordered`` handler and deletes only what succeeded. Reported failures
are left to the handler's own visibility changes, as the deployed mapping does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from chalicelib.core import aws
from chalicelib.core.batch import handle_fifo_concurrently, pool
from chalicelib.core.timestamps import now_text
from chalicelib.outbound import ordering, queue
from tests.outbound.conftest import QueueDriver, lambda_event
from tests.outbound.helpers import attempts, publish, subscribe
from tests.support.api_client import ApiClient
from tests.support.receiver import Behaviour, serve_receiver
from tests.support.waiting import poll


class FifoDriver:
    def __init__(self, standard: QueueDriver) -> None:
        from app import outbound_ordered

        self.handler = outbound_ordered
        self.standard = standard
        self.name = queue.ordered_queue_name()
        self.url = queue.queue_url(self.name)
        self.held: dict[str, str] = {}

    def round(self) -> dict[str, Any] | None:
        """One receive and invoke; ``None`` when nothing was visible."""
        self.standard.stream.pump()
        messages = (
            aws.sqs()
            .receive_message(
                QueueUrl=self.url, MaxNumberOfMessages=10, AttributeNames=["All"], MessageAttributeNames=["All"]
            )
            .get("Messages", [])
        )
        if not messages:
            return None
        batch: list[dict[str, Any]] = [dict(m) for m in messages]
        result: dict[str, Any] = self.handler(lambda_event(batch, self.name), None)
        failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
        for message in batch:
            if message["MessageId"] in failed:
                self.held[message["MessageId"]] = message["ReceiptHandle"]
            else:
                self.held.pop(message["MessageId"], None)
                aws.sqs().delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
        return result

    def drain(self) -> None:
        """Rounds until three in a row find nothing visible."""
        idle = 0

        def settled() -> bool:
            nonlocal idle
            idle = idle + 1 if self.round() is None else 0
            return idle >= 3

        poll(settled, "the ordered queue to settle", interval=0.05)

    def release_held(self) -> None:
        """Let time pass for the held messages: make them visible now."""
        for receipt in self.held.values():
            aws.sqs().change_message_visibility(QueueUrl=self.url, ReceiptHandle=receipt, VisibilityTimeout=0)

    def dead_letters(self) -> list[dict[str, Any]]:
        url = queue.queue_url(queue.ordered_dead_letter_queue_name())
        found = aws.sqs().receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        return [dict(m) for m in found]

    def in_flight(self) -> int:
        attributes = aws.sqs().get_queue_attributes(
            QueueUrl=self.url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessagesNotVisible"])


@pytest.fixture
def fifo(driver: QueueDriver) -> FifoDriver:
    return FifoDriver(driver)


def publish_five(client: ApiClient) -> list[str]:
    return [publish(client, "Repo.Pushed", {"n": n, "repository": {"id": n % 2}})["eventId"] for n in range(1, 6)]


def test_order_is_kept_while_the_second_message_fails_twice(client: ApiClient, fifo: FifoDriver) -> None:
    with serve_receiver() as ordered_receiver, serve_receiver() as plain:
        subscribe(client, ordered_receiver, ["Repo.*"], delivery="ordered")
        subscribe(client, plain, ["Repo.*"])
        ids = publish_five(client)
        ordered_receiver.behaviour.fail_first[ids[1]] = 2
        fifo.drain()
        fifo.standard.drain()
        seen = [(r.message_id, r.answered) for r in ordered_receiver.received]
        assert seen == [(ids[0], 200), (ids[1], 500), (ids[1], 500), (ids[1], 200)] + [(i, 200) for i in ids[2:]]
        assert [r.headers["x-retry-count"] for r in ordered_receiver.received[1:4]] == ["0", "1", "2"]
        assert plain.accepted_ids == set(ids), "the unordered subscription went through the standard queue"


def test_a_held_message_blocks_only_its_own_group(
    client: ApiClient, fifo: FifoDriver, outbound_env: Callable[..., None]
) -> None:
    outbound_env(WEBHOOK_RETRY_SCHEDULE="60,60")
    with serve_receiver() as held, serve_receiver() as other, serve_receiver() as keyed:
        sub = subscribe(client, held, ["Repo.*"], delivery="ordered")
        subscribe(client, other, ["Repo.*"], delivery="ordered")
        subscribe(client, keyed, ["Repo.*"], delivery="ordered", orderingKey="data.repository.id")
        ids = publish_five(client)
        held.behaviour.fail_first[ids[1]] = 1
        keyed.behaviour.fail_first[ids[1]] = 1
        fifo.drain()
        assert [r.message_id for r in held.received] == ids[:2], "3-5 wait behind the held second message"
        assert [r.message_id for r in other.accepted()] == ids, "another subscription's group is not blocked"
        # data.repository.id is n % 2: the odd group (1, 3, 5) goes on while the even one (2, 4) waits.
        assert [r.message_id for r in keyed.accepted()] == [ids[0], ids[2], ids[4]]
        assert fifo.in_flight() == 2, "only the held messages are in flight; skipped ones were released"
        [retrying] = [a for a in attempts(client, sub["subscriptionId"]) if a["status"] == "Retrying"]
        assert retrying["eventId"] == ids[1]

        fifo.release_held()
        fifo.drain()
        assert [r.message_id for r in held.accepted()] == [ids[0], *ids[1:]]
        assert [r.message_id for r in keyed.accepted()][3:] == [ids[1], ids[3]]


def test_a_dead_lettered_message_releases_its_group(client: ApiClient, fifo: FifoDriver) -> None:
    with serve_receiver() as receiver:
        sub = subscribe(client, receiver, ["Repo.*"], delivery="ordered")
        ids = publish_five(client)
        receiver.behaviour.fail_first[ids[1]] = 100
        fifo.drain()
        tries = [r.message_id for r in receiver.received]
        assert tries == [ids[0]] + [ids[1]] * 8 + ids[2:], "eight attempts (FAST schedule), then the rest in order"
        [parked] = fifo.dead_letters()
        assert ids[1] in parked["Body"]
        finals = {a["eventId"]: a["status"] for a in attempts(client, sub["subscriptionId"])[::-1]}
        assert finals[ids[1]] == "Failed" and finals[ids[4]] == "Succeeded"


def test_disabling_the_subscription_releases_its_group(
    client: ApiClient, fifo: FifoDriver, outbound_env: Callable[..., None]
) -> None:
    outbound_env(WEBHOOK_RETRY_SCHEDULE="60,60")
    with serve_receiver() as receiver:
        sub = subscribe(client, receiver, ["Repo.*"], delivery="ordered")
        ids = publish_five(client)
        receiver.behaviour.fail_first[ids[1]] = 1
        fifo.drain()
        assert len(receiver.received) == 2
        path = f"/webhooks/subscriptions/{sub['subscriptionId']}"
        assert client.request("PATCH", path, json_body={"active": False}).status == 200
        fifo.release_held()
        fifo.drain()
        assert len(receiver.received) == 2, "nothing more is sent to a disabled subscription"
        assert fifo.in_flight() == 0
        latest = {a["eventId"]: a for a in attempts(client, sub["subscriptionId"])[::-1]}
        assert [latest[i]["status"] for i in ids[1:]] == ["Failed"] * 4
        assert "Inactive" in latest[ids[4]]["error"]


def test_redelivery_of_an_ordered_subscription_goes_through_the_fifo_queue(client: ApiClient, fifo: FifoDriver) -> None:
    with serve_receiver() as receiver:
        sub = subscribe(client, receiver, ["Repo.*"], delivery="ordered")
        [first, *_] = publish_five(client)
        fifo.drain()
        for _ in range(2):  # twice within SQS's deduplication window: both are new deliveries
            reply = client.post(f"/events/{first}/redeliver", {"subscriptionId": sub["subscriptionId"]})
            assert reply.status == 202, reply.json
        assert fifo.standard.receive() == []
        fifo.drain()
        assert [r.message_id for r in receiver.accepted()].count(first) == 3


def test_recovery_of_a_keyed_subscription_puts_each_event_in_its_keys_group(
    client: ApiClient, fifo: FifoDriver, outbound_env: Callable[..., None]
) -> None:
    outbound_env(WEBHOOK_RETRY_SCHEDULE="0.01")
    with serve_receiver(Behaviour(status=503)) as receiver:
        sub = subscribe(client, receiver, ["Repo.*"], delivery="ordered", orderingKey="data.repository.id")
        before = now_text()
        ids = publish_five(client)  # repository ids 1, 0, 1, 0, 1
        fifo.drain()
        assert receiver.accepted_ids == set()

        receiver.behaviour.status = None
        recovered = client.post(f"/webhooks/subscriptions/{sub['subscriptionId']}/recover", {"since": before})
        assert recovered.status == 202 and sorted(recovered.json["eventIds"]) == sorted(ids), recovered.json
        queued = aws.sqs().receive_message(QueueUrl=fifo.url, MaxNumberOfMessages=10, AttributeNames=["All"])
        groups = {m["Attributes"]["MessageGroupId"] for m in queued.get("Messages", [])}
        assert len(groups) == 2 and all(g.startswith(sub["subscriptionId"] + ":") for g in groups), groups
        for message in queued.get("Messages", []):
            aws.sqs().change_message_visibility(
                QueueUrl=fifo.url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
        fifo.drain()
        assert receiver.accepted_ids == set(ids)


def test_a_message_received_again_after_its_final_attempt_is_acknowledged_not_sent(
    client: ApiClient, fifo: FifoDriver
) -> None:
    """The Lambda died after recording the attempt, before SQS heard of it: the same message comes back."""
    with serve_receiver() as receiver:
        subscribe(client, receiver, ["Repo.*"], delivery="ordered")
        [event_id] = [publish(client, "Repo.Pushed", {"n": 1})["eventId"]]
        fifo.standard.stream.pump()
        [message] = aws.sqs().receive_message(QueueUrl=fifo.url, AttributeNames=["All"]).get("Messages", [])
        first = fifo.handler(lambda_event([dict(message)], fifo.name), None)
        assert first["batchItemFailures"] == [] and len(receiver.received) == 1  # ...and then the Lambda died
        aws.sqs().change_message_visibility(
            QueueUrl=fifo.url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )
        fifo.drain()
        assert [r.message_id for r in receiver.received] == [event_id]
        assert not [m for m in fifo.dead_letters() if event_id in m["Body"]]


def test_a_stream_retry_is_deduplicated_by_the_fifo_queue(client: ApiClient, fifo: FifoDriver, tenant: str) -> None:
    from chalicelib.events import store as events
    from chalicelib.outbound import fanout

    with serve_receiver() as receiver:
        subscribe(client, receiver, ["Repo.*"], delivery="ordered")
        [first, *_] = publish_five(client)
        fifo.standard.stream.pump()
        event = events.get(tenant, first)
        assert event is not None
        queue.send_batch(fanout.fan_out(event))  # the stream handler's retry of the same record
        fifo.drain()
        assert [r.message_id for r in receiver.received].count(first) == 1


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"delivery": "sometimes"}, "delivery"),
        ({"delivery": "ordered", "orderingKey": "repository.id"}, "orderingKey"),
        ({"orderingKey": "data.repository.id"}, "orderingKey"),
    ],
)
def test_bad_delivery_settings_are_a_400(client: ApiClient, fields: dict[str, str], where: str) -> None:
    reply = client.post(
        "/webhooks/subscriptions", {"eventTypes": ["*"], "endpointUrl": "http://127.0.0.1:9/x", **fields}
    )
    assert reply.status == 400 and where in str(reply.json), reply.json


def test_delivery_settings_can_be_changed(client: ApiClient) -> None:
    with serve_receiver() as receiver:
        sub = subscribe(client, receiver, ["*"])
        assert sub["delivery"] == "unordered" and "orderingKey" not in sub
        path = f"/webhooks/subscriptions/{sub['subscriptionId']}"
        refused = client.request("PATCH", path, json_body={"orderingKey": "data.a"})
        assert refused.status == 400 and "orderingKey" in str(refused.json)
        changed = client.request("PATCH", path, json_body={"delivery": "ordered", "orderingKey": "data.a"}).json
        assert changed["delivery"] == "ordered" and changed["orderingKey"] == "data.a"
        cleared = client.request("PATCH", path, json_body={"orderingKey": None}).json
        assert cleared["delivery"] == "ordered" and "orderingKey" not in cleared


def test_group_is_the_subscription_plus_a_scalar_key_value() -> None:
    item = {"subscriptionId": "sub_1", "delivery": "ordered", "orderingKey": "data.repo.id"}
    assert ordering.group(item, {"repo": {"id": 42}}) == "sub_1:42"
    assert ordering.group(item, {"repo": {}}) == "sub_1"
    assert ordering.group(item, {"repo": {"id": {"nested": 1}}}) == "sub_1"
    hashed = ordering.group(item, {"repo": {"id": "naïve value " * 20}})
    assert hashed.startswith("sub_1:") and len(hashed) <= 128 and hashed.isascii()
    assert ordering.fields({"subscriptionId": "sub_1"}, {}) == {}
    assert ordering.fields(item, {"repo": {"id": 42}}) == {"message_group": "sub_1:42", "ordering_value": "42"}


def fifo_record(message_id: str, group: str) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "receiptHandle": message_id,
        "body": message_id,
        "attributes": {"MessageGroupId": group},
    }


def test_after_a_failure_every_later_record_of_its_group_is_failed_and_not_run() -> None:
    records = [
        fifo_record(i, g) for i, g in [("a1", "A"), ("b1", "B"), ("a2", "A"), ("a3", "A"), ("b2", "B"), ("a4", "A")]
    ]
    ran: list[str] = []

    def handle(record: Any) -> None:
        ran.append(record.message_id)
        if record.message_id == "a2":
            raise RuntimeError("receiver down")

    result = handle_fifo_concurrently({"Records": records}, handle, pool("test-fifo", 4))
    assert [f["itemIdentifier"] for f in result["batchItemFailures"]] == ["a2", "a3", "a4"]
    assert sorted(ran) == ["a1", "a2", "b1", "b2"]
    assert [m for m in ran if m.startswith("a")] == ["a1", "a2"], "a group runs in order"


def test_a_failure_in_one_group_does_not_fail_other_groups_even_when_first() -> None:
    records = [fifo_record(i, g) for i, g in [("a1", "A"), ("b1", "B"), ("c1", "C"), ("b2", "B")]]

    def handle(record: Any) -> None:
        if record.message_id in ("a1", "c1"):
            raise RuntimeError("down")

    result = handle_fifo_concurrently({"Records": records}, handle, pool("test-fifo", 4))
    assert sorted(f["itemIdentifier"] for f in result["batchItemFailures"]) == ["a1", "c1"]


def test_a_batch_where_every_record_fails_is_reported_not_raised() -> None:
    records = [fifo_record("a1", "A"), fifo_record("a2", "A")]

    def handle(record: Any) -> None:
        raise RuntimeError("down")

    result = handle_fifo_concurrently({"Records": records}, handle, pool("test-fifo", 4))
    assert [f["itemIdentifier"] for f in result["batchItemFailures"]] == ["a1", "a2"]


def test_one_request_never_carries_two_messages_of_a_group(local_api: object) -> None:
    """Sent together across events, each group's messages go out in order, one per SendMessageBatch: an entry
    SQS refuses can never let a later message of its group in ahead of it."""
    from chalicelib.outbound.models import DispatchMessage
    from tests.support.aws_calls import aws_calls

    def message(group: str, n: int) -> DispatchMessage:
        return DispatchMessage(
            tenant_id="t",
            subscription_id=group,
            event_id=f"evt-{n}",
            event_type="X",
            message_group=group,
            delivery_id=f"dlv-{group}-{n}",
        )

    sent = [message("a", 1), message("b", 2), message("a", 3), message("b", 4), message("a", 5)]
    with aws_calls() as calls:
        assert queue.send_batch(sent) == 5
    requests = [c for c in calls if c.operation == "sqs.SendMessageBatch"]
    assert len(requests) == 3
    url = queue.queue_url(queue.ordered_queue_name())
    received: list[str] = []
    while found := aws.sqs().receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for m in found:
            received.append(DispatchMessage.model_validate_json(m["Body"]).event_id)
            aws.sqs().delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    assert [e for e in received if e in {"evt-1", "evt-3", "evt-5"}] == ["evt-1", "evt-3", "evt-5"]
    assert [e for e in received if e in {"evt-2", "evt-4"}] == ["evt-2", "evt-4"]
