"""The events stream's failure destination: what a batch given up leaves behind, and how it is redriven.

The in-process moto answers no DynamoDB Streams API, so these tests hand the
consumer's marking the very records the stream holds (``StreamPump``); reading
a batch's range back from the stream, and the whole path from Lambda's failure
message, run over the local runtime (tests/e2e/test_platform_role_and_dead_letters_e2e.py).
"""

from __future__ import annotations

import json
from typing import Any

from chalicelib.events import store as events
from chalicelib.outbound import stream_failures
from tests.inbound import signers
from tests.inbound.conftest import Hook, json_bytes, post_delivery
from tests.outbound.helpers import publish
from tests.support.api_client import ApiClient
from tests.support.crashes import each_crash
from tests.support.events import recorded
from tests.support.streams import StreamPump

CONDITION = "RetryAttemptsExhausted"


def _connect(client: ApiClient, provider_id: str) -> Hook:
    body = {"providerId": provider_id, "displayName": "inbound", "credentials": {"token": "vendor-token"}}
    created = client.post("/integrations/connections", body)
    assert created.status == 201, created.body
    return Hook(created.json["connectionId"], created.json["webhookSecret"], created.json)


def _record_of(stream: StreamPump, event_id: str) -> dict[str, Any]:
    [record] = [r for r in stream.pending() if r["dynamodb"]["Keys"]["eventId"]["S"] == event_id]
    return record


def test_a_delivery_whose_fan_out_was_given_up_is_failed_and_its_redrive_publishes_it_again(
    client: ApiClient, tenant: str
) -> None:
    hook = _connect(client, "prov-github")
    stream = StreamPump()
    body = json_bytes({"action": "opened", "issue": {"number": 3}})
    headers = {"X-GitHub-Event": "issues", "X-GitHub-Delivery": "given-up-1", **signers.github(hook.secret, body)}
    delivery_id = post_delivery(client, hook.connection_id, body, headers).json["deliveryId"]
    event_id = client.get(f"/webhooks/deliveries/{delivery_id}").json["eventId"]
    inserted = _record_of(stream, event_id)

    assert stream_failures.mark(inserted, CONDITION) == 1
    failed = client.get(f"/webhooks/deliveries/{delivery_id}").json
    assert failed["status"] == "Failed" and CONDITION in failed["failureReason"]
    assert failed["eventId"] == event_id and client.get(f"/events/{event_id}").status == 200  # the event is there
    assert stream_failures.mark(inserted, CONDITION) == 0  # a repeated failure message marks nothing twice
    [announced] = recorded(tenant, "DeliveryFailed")  # with the mark, in one transaction, once
    assert announced["data"]["deliveryId"] == delivery_id and CONDITION in announced["data"]["reason"]
    assert all(events.published(r) is None for r in stream.pending() if r["eventName"] == "MODIFY")

    position = len(stream.pending())
    redriven = client.post(f"/webhooks/deliveries/{delivery_id}/redrive", {})
    assert redriven.status == 202 and redriven.json["status"] == "Processed", redriven.body
    [modified] = stream.pending()[position:]
    again = events.published(modified)
    assert again is not None and again.event_id == event_id and again.data["payload"]["issue"]["number"] == 3
    assert stream_failures.mark(inserted, CONDITION) == 0  # the old batch's record: the redrive since wins
    assert stream_failures.mark(modified, CONDITION) == 1  # the redrive's own publication failing again is marked
    assert client.get(f"/webhooks/deliveries/{delivery_id}").json["status"] == "Failed"
    assert len(recorded(tenant, "DeliveryFailed")) == 2  # a failure after a redrive is announced again


def test_another_event_keeps_its_failure_on_its_item_and_is_redelivered_by_its_own_route(
    client: ApiClient, tenant: str
) -> None:
    stream = StreamPump()
    event_id = publish(client, "OrderShipped", {"order": 9})["eventId"]
    inserted = _record_of(stream, event_id)
    assert stream_failures.mark(inserted, CONDITION) == 1
    stored = events.TABLE.get(tenant, event_id)
    assert stored is not None and CONDITION in stored["failureReason"] and "status" not in stored
    assert events.get(tenant, event_id) is not None
    assert client.post(f"/events/{event_id}/redeliver", {}).status == 202


def test_what_publishes_nothing_marks_nothing(client: ApiClient, tenant: str) -> None:
    hook = _connect(client, "prov-stripe")
    stream = StreamPump()
    body = b"not json"
    delivery_id = post_delivery(client, hook.connection_id, body, signers.stripe(hook.secret, body)).json["deliveryId"]
    [record] = [r for r in stream.pending() if "deliveryId" in r["dynamodb"]["NewImage"]]
    assert stream_failures.mark(record, CONDITION) == 0
    removed = {**record, "eventName": "REMOVE"}
    assert stream_failures.mark(removed, CONDITION) == 0
    failed = client.get(f"/webhooks/deliveries/{delivery_id}").json
    assert failed["failureReason"].startswith("the delivery could not be read")  # its own reason stays


def test_a_message_that_names_no_batch_is_dropped_not_retried() -> None:
    event = {"Records": [_sqs_record("m-1", "not json"), _sqs_record("m-2", json.dumps({"version": "1.0"}))]}
    assert stream_failures.handle(event) == {"batchItemFailures": []}


def _sqs_record(message_id: str, body: str) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "receiptHandle": message_id,
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:integration-platform-dev-events-stream-failures",
        "awsRegion": "us-east-1",
    }


def test_the_consumer_killed_after_any_call_marks_and_announces_together_and_once(
    client: ApiClient, tenant: str
) -> None:
    hook = _connect(client, "prov-github")
    stream = StreamPump()
    body = json_bytes({"action": "opened", "issue": {"number": 4}})
    headers = {"X-GitHub-Event": "issues", "X-GitHub-Delivery": "crash-1", **signers.github(hook.secret, body)}
    delivery_id = post_delivery(client, hook.connection_id, body, headers).json["deliveryId"]
    inserted = _record_of(stream, client.get(f"/webhooks/deliveries/{delivery_id}").json["eventId"])

    def agree(crash: int) -> None:
        failed = client.get(f"/webhooks/deliveries/{delivery_id}").json["status"] == "Failed"
        assert len(recorded(tenant, "DeliveryFailed")) == (1 if failed else 0), crash

    assert each_crash(lambda: stream_failures.mark(inserted, CONDITION), agree) >= 1
    stream_failures.mark(inserted, CONDITION)  # SQS's redelivery of the failure message
    assert client.get(f"/webhooks/deliveries/{delivery_id}").json["status"] == "Failed"
    assert len(recorded(tenant, "DeliveryFailed")) == 1
