"""Dead-lettered deliveries: the DLQ consumer marks them Failed once, and redrive puts them back.

Processing is made to fail the way AWS would fail it: the events table refuses
the write (a botocore hook on this process's client; moto stays the AWS). The
real ``inbound_events`` and ``inbound_dead_letters`` handlers from ``app.py`` get
Lambda-shaped events built from what moto actually holds, and moto moves the
message to the DLQ after the template's ``maxReceiveCount``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pytest

from chalicelib.core import aws
from chalicelib.core.config import get_settings
from chalicelib.core.errors import EntireBatchFailed
from tests.inbound import signers
from tests.inbound.conftest import Hook, events_of, json_bytes, post_delivery
from tests.support.api_client import ApiClient
from tests.support.run_driver import invoke, queue_url, receive

if TYPE_CHECKING:
    from mypy_boto3_sqs.type_defs import MessageTypeDef

MAX_RECEIVE_COUNT = 5  # infra/template.json's MaxReceiveCount default, which the tests' moto stack uses
WRITES = ("PutItem", "UpdateItem", "TransactWriteItems")


@contextmanager
def writes_failing(logical_table: str = "events") -> Iterator[None]:
    """DynamoDB refuses every write to the table, so the consumer fails on every try (at that step)."""
    events = aws.dynamodb().meta.events
    table = get_settings().table_name(logical_table)

    def fail(params: dict[str, Any], **_: Any) -> None:
        steps = [step for entry in params.get("TransactItems", []) for step in entry.values()]
        if table in {params.get("TableName")} | {step.get("TableName") for step in steps}:
            raise ConnectionError("DynamoDB is unreachable")

    for operation in WRITES:
        events.register(f"provide-client-params.dynamodb.{operation}", fail, unique_id=f"dlq-test-{operation}")
    try:
        yield
    finally:
        for operation in WRITES:
            events.unregister(f"provide-client-params.dynamodb.{operation}", unique_id=f"dlq-test-{operation}")


def main_queue() -> str:
    return queue_url(get_settings().queue_name("inbound-events"))


def dead_letter_queue() -> str:
    return queue_url(get_settings().dead_letter_queue_name("inbound-events"))


def consume(tenant: str) -> set[str]:
    """One receive of this tenant's messages by the real consumer; failures are visible again at once.

    The consumer raises when every record of a batch failed; Lambda then fails the whole batch."""
    from app import inbound_events

    messages = receive(main_queue(), tenant, visibility=0)
    if not messages:
        return set()
    try:
        return invoke(inbound_events, main_queue(), messages)
    except EntireBatchFailed:
        return {m["MessageId"] for m in messages}


def dead_letters(tenant: str) -> list[MessageTypeDef]:
    return receive(dead_letter_queue(), tenant, visibility=0)


def consume_dead_letters(messages: list[MessageTypeDef]) -> set[str]:
    from app import inbound_dead_letters

    return invoke(inbound_dead_letters, dead_letter_queue(), messages)


def accept(client: ApiClient, hook: Hook) -> str:
    body = json_bytes({"action": "opened", "issue": {"number": 7}})
    headers = {"X-GitHub-Event": "issues", "X-GitHub-Delivery": str(uuid.uuid4()), **signers.github(hook.secret, body)}
    reply = post_delivery(client, hook.connection_id, body, headers)
    assert reply.status == 202, reply.body
    return str(reply.json["deliveryId"])


def fail_until_dead_lettered(tenant: str, failing_table: str = "events") -> list[MessageTypeDef]:
    """Every receive fails until SQS moves the message to the DLQ; returns what the DLQ then holds."""
    with writes_failing(failing_table):
        for _ in range(MAX_RECEIVE_COUNT):
            assert len(consume(tenant)) == 1
        assert consume(tenant) == set()  # the next receive found it over maxReceiveCount and moved it
    found = dead_letters(tenant)
    assert len(found) == 1
    return found


def delivery_failed_events(tenant: str) -> list[dict[str, Any]]:
    return [e for e in events_of(tenant) if e["type"] == "DeliveryFailed"]


@pytest.fixture
def hook(connect: Callable[..., Hook], tenant: str) -> Hook:
    receive(main_queue(), tenant)  # leftovers of other tenants are dropped, as the worker tests do
    return connect("prov-github")


def test_a_delivery_failing_every_try_ends_failed_with_an_actionable_reason_and_one_event(
    client: ApiClient,
    hook: Hook,
    tenant: str,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    delivery_id = accept(client, hook)
    trace_id = client.get(f"/webhooks/deliveries/{delivery_id}").json
    assert trace_id["status"] == "Received"
    (message,) = fail_until_dead_lettered(tenant)
    assert client.get(f"/webhooks/deliveries/{delivery_id}").json["status"] == "Received"  # the defect, until now
    capsys.readouterr()

    assert consume_dead_letters([message]) == set()
    delivery = client.get(f"/webhooks/deliveries/{delivery_id}").json
    assert delivery["status"] == "Failed" and delivery["failedAt"]
    reason = delivery["failureReason"]
    assert "ApproximateReceiveCount" in reason and str(int(message["Attributes"]["ApproximateReceiveCount"])) in reason
    logged = [vars(r) for r in caplog.records if r.getMessage() == "inbound delivery failed"]
    assert len(logged) == 1 and logged[0]["delivery_id"] == delivery_id
    assert f"see logs with traceId {logged[0]['trace_id']}" in reason and logged[0]["trace_id"].startswith("trace-")
    failures = [vars(r) for r in caplog.records if r.getMessage().startswith("inbound delivery processing failed")]
    assert len(failures) == MAX_RECEIVE_COUNT and {r["trace_id"] for r in failures} == {logged[0]["trace_id"]}
    assert capsys.readouterr().out.count('"InboundDeliveryFailed":[1.0]') == 1
    (event,) = delivery_failed_events(tenant)
    assert event["data"] == {
        "deliveryId": delivery_id,
        "connectionId": hook.connection_id,
        "providerId": "prov-github",
        "reason": reason,
    }

    assert consume_dead_letters([message]) == set()  # the same dead letter again: nothing new
    assert [e["eventId"] for e in delivery_failed_events(tenant)] == [event["eventId"]]
    assert client.get(f"/webhooks/deliveries/{delivery_id}").json["failureReason"] == reason


def test_a_delivery_processed_meanwhile_is_not_downgraded(client: ApiClient, hook: Hook, tenant: str) -> None:
    delivery_id = accept(client, hook)
    assert consume(tenant) == set()
    # A late copy of its message dead-lettered after the delivery was processed.
    late = json.dumps({"tenantId": tenant, "deliveryId": delivery_id})
    aws.sqs().send_message(QueueUrl=dead_letter_queue(), MessageBody=late)
    assert consume_dead_letters(dead_letters(tenant)) == set()
    delivery = client.get(f"/webhooks/deliveries/{delivery_id}").json
    assert delivery["status"] == "Processed" and "failureReason" not in delivery
    assert delivery_failed_events(tenant) == []


def test_a_delivery_whose_event_was_recorded_but_never_marked_ends_processed_not_failed(
    client: ApiClient, hook: Hook, tenant: str
) -> None:
    """The consumer writes the event first: if marking the delivery fails on every try, the event is out."""
    delivery_id = accept(client, hook)
    (message,) = fail_until_dead_lettered(tenant, failing_table="deliveries")
    assert client.get(f"/webhooks/deliveries/{delivery_id}").json["status"] == "Received"
    assert [e["type"] for e in events_of(tenant)] == ["IssueOpened"]  # five tries, one event

    assert consume_dead_letters([message]) == set()
    delivery = client.get(f"/webhooks/deliveries/{delivery_id}").json
    assert delivery["status"] == "Processed" and delivery["eventId"] == events_of(tenant)[0]["eventId"]
    assert delivery_failed_events(tenant) == []


def test_a_late_copy_after_the_dead_letter_consumer_gave_up_processes_the_delivery(
    client: ApiClient, hook: Hook, tenant: str
) -> None:
    """A sweeper's re-send can outlive the original's dead-lettering; when it succeeds, the delivery is Processed."""
    delivery_id = accept(client, hook)
    (message,) = fail_until_dead_lettered(tenant)
    consume_dead_letters([message])
    assert client.get(f"/webhooks/deliveries/{delivery_id}").json["status"] == "Failed"

    aws.sqs().send_message(QueueUrl=main_queue(), MessageBody=message["Body"])
    assert consume(tenant) == set()
    delivery = client.get(f"/webhooks/deliveries/{delivery_id}").json
    assert delivery["status"] == "Processed" and "failureReason" not in delivery and "failedAt" not in delivery
    assert [e["type"] for e in events_of(tenant)].count("IssueOpened") == 1
    again = client.post(f"/webhooks/deliveries/{delivery_id}/redrive")
    assert again.status == 409


def test_a_failed_delivery_whose_late_copy_recorded_the_event_ends_processed(
    client: ApiClient, hook: Hook, tenant: str
) -> None:
    """Failed first; then a late copy records the event but never marks the delivery, and dead-letters too."""
    delivery_id = accept(client, hook)
    (original,) = fail_until_dead_lettered(tenant)
    consume_dead_letters([original])
    assert client.get(f"/webhooks/deliveries/{delivery_id}").json["status"] == "Failed"

    aws.sqs().send_message(QueueUrl=main_queue(), MessageBody=original["Body"])
    (late,) = fail_until_dead_lettered(tenant, failing_table="deliveries")
    assert client.get(f"/webhooks/deliveries/{delivery_id}").json["status"] == "Failed"  # its event is out
    assert consume_dead_letters([late]) == set()
    delivery = client.get(f"/webhooks/deliveries/{delivery_id}").json
    assert delivery["status"] == "Processed" and "failureReason" not in delivery
    assert [e["type"] for e in events_of(tenant)].count("IssueOpened") == 1
    assert len(delivery_failed_events(tenant)) == 1  # the first, true at its time; no second


def test_an_event_recorded_while_the_dead_letter_is_handled_cancels_the_failure(
    client: ApiClient, hook: Hook, tenant: str
) -> None:
    """A late copy records the event between the DLQ consumer's check and its transaction."""
    from chalicelib.inbound import processing

    delivery_id = accept(client, hook)
    (message,) = fail_until_dead_lettered(tenant)
    hooks = aws.dynamodb().meta.events
    raced: list[str] = []

    def late_copy_first(**_: Any) -> None:
        if not raced:
            raced.append("recorded")
            with writes_failing("deliveries"), pytest.raises(ConnectionError):
                processing.process(json.loads(message["Body"]))

    hooks.register("before-call.dynamodb.TransactWriteItems", late_copy_first, unique_id="dlq-test-race")
    try:
        assert consume_dead_letters([message]) == set()
    finally:
        hooks.unregister("before-call.dynamodb.TransactWriteItems", unique_id="dlq-test-race")
    assert raced == ["recorded"]
    delivery = client.get(f"/webhooks/deliveries/{delivery_id}").json
    assert delivery["status"] == "Processed" and "failureReason" not in delivery
    assert [e["type"] for e in events_of(tenant)] == ["IssueOpened"]  # no DeliveryFailed


def test_redrive_puts_a_failed_delivery_back_and_the_consumer_processes_it(
    client: ApiClient, hook: Hook, tenant: str
) -> None:
    delivery_id = accept(client, hook)
    consume_dead_letters(fail_until_dead_lettered(tenant))
    key = {"Idempotency-Key": str(uuid.uuid4())}

    redriven = client.post(f"/webhooks/deliveries/{delivery_id}/redrive", None, headers=key)
    assert redriven.status == 202, redriven.body
    assert redriven.json["status"] == "Received" and redriven.json["redriveCount"] == 1
    assert "failureReason" not in redriven.json and "failedAt" not in redriven.json
    replayed = client.post(f"/webhooks/deliveries/{delivery_id}/redrive", None, headers=key)
    assert (replayed.status, replayed.json["deliveryId"]) == (202, delivery_id)

    assert consume(tenant) == set()
    delivery = client.get(f"/webhooks/deliveries/{delivery_id}").json
    assert delivery["status"] == "Processed"
    assert [e["type"] for e in events_of(tenant)].count("IssueOpened") == 1

    again = client.post(f"/webhooks/deliveries/{delivery_id}/redrive")
    assert again.status == 409 and again.json["error"]["code"] == "CONFLICT"


def test_a_redriven_delivery_that_fails_again_announces_its_new_failure(
    client: ApiClient, hook: Hook, tenant: str
) -> None:
    delivery_id = accept(client, hook)
    consume_dead_letters(fail_until_dead_lettered(tenant))
    assert client.post(f"/webhooks/deliveries/{delivery_id}/redrive").status == 202
    consume_dead_letters(fail_until_dead_lettered(tenant))
    assert client.get(f"/webhooks/deliveries/{delivery_id}").json["status"] == "Failed"
    assert len({e["eventId"] for e in delivery_failed_events(tenant)}) == 2


def test_redrive_refuses_what_is_not_failed_and_what_is_not_the_callers(
    client: ApiClient, hook: Hook, tenant: str, local_api: object, issuer: Any
) -> None:
    delivery_id = accept(client, hook)
    received = client.post(f"/webhooks/deliveries/{delivery_id}/redrive")
    assert received.status == 409 and "Received" in received.json["error"]["message"]
    assert client.post("/webhooks/deliveries/del-nonexistent/redrive").status == 404

    consume_dead_letters(fail_until_dead_lettered(tenant))
    stranger = ApiClient(local_api, issuer.token(f"tenant-{uuid.uuid4().hex[:8]}"))  # type: ignore[arg-type]
    foreign = stranger.post(f"/webhooks/deliveries/{delivery_id}/redrive")
    assert foreign.status == 404 and foreign.json["error"]["code"] == "RESOURCE_NOT_FOUND"
    assert client.get(f"/webhooks/deliveries/{delivery_id}").json["status"] == "Failed"

    reader = ApiClient(local_api, issuer.token(tenant, ["webhooks.deliveries.read"]))  # type: ignore[arg-type]
    assert reader.post(f"/webhooks/deliveries/{delivery_id}/redrive").status == 403


def test_a_redrive_whose_send_fails_leaves_the_delivery_failed(client: ApiClient, hook: Hook, tenant: str) -> None:
    from tests.inbound.test_consumer import sqs_send_failing

    delivery_id = accept(client, hook)
    consume_dead_letters(fail_until_dead_lettered(tenant))
    with sqs_send_failing():
        refused = client.post(f"/webhooks/deliveries/{delivery_id}/redrive")
    assert refused.status == 503 and refused.json["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert client.get(f"/webhooks/deliveries/{delivery_id}").json["status"] == "Failed"
    assert client.post(f"/webhooks/deliveries/{delivery_id}/redrive").status == 202
