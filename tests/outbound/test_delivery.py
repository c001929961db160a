"""Delivery through the real dispatcher handler to a verifying receiver on 127.0.0.1."""

from __future__ import annotations

import json
import time

import pytest

from chalicelib.core import aws
from chalicelib.core.timestamps import parse_time
from chalicelib.outbound import queue
from chalicelib.outbound.models import DispatchMessage
from tests.outbound.conftest import QueueDriver, lambda_event
from tests.outbound.helpers import attempts, publish, statuses, subscribe
from tests.support.api_client import ApiClient
from tests.support.receiver import Behaviour, serve_receiver


def test_a_published_event_arrives_signed_both_ways(client: ApiClient, driver: QueueDriver, tenant: str) -> None:
    with serve_receiver() as receiver:
        sub = subscribe(client, receiver, ["DeploymentPromoted"])
        event = publish(client, "DeploymentPromoted", {"deployment": {"id": "deploy-1"}})
        driver.drain()
        assert receiver.verification_errors == []
        [got] = receiver.accepted()
        assert got.message_id == event["eventId"]
        assert got.body == {
            "id": event["eventId"],
            "type": "DeploymentPromoted",
            "timestamp": event["timestamp"],
            "data": {"deployment": {"id": "deploy-1"}},
        }
        assert got.headers["webhook-signature"].startswith("v1,")
        assert got.headers["x-signature-256"].startswith("sha256=")
    [status] = statuses(tenant, event["eventId"])
    assert status.subscription_id == sub["subscriptionId"] and status.status == "Succeeded"
    [attempt] = attempts(client, sub["subscriptionId"])
    assert attempt["statusCode"] == 200 and attempt["latencyMs"] >= 0 and attempt["responseBody"]


def test_only_active_subscriptions_whose_types_match_receive(client: ApiClient, driver: QueueDriver) -> None:
    with serve_receiver() as prefix, serve_receiver() as exact, serve_receiver() as everything:
        subscribe(client, prefix, ["PullRequest*"])
        subscribe(client, exact, ["IssueOpened"])
        subscribe(client, everything, ["*"])
        with serve_receiver() as idle:
            subscribe(client, idle, ["*"], active=False)
            merged = publish(client, "PullRequestMerged", {"number": 1})
            opened = publish(client, "IssueOpened", {"number": 2})
            driver.drain()
            assert idle.received == []
        assert prefix.accepted_ids == {merged["eventId"]}
        assert exact.accepted_ids == {opened["eventId"]}
        assert everything.accepted_ids == {merged["eventId"], opened["eventId"]}


def test_secret_overlap_signs_with_old_and_new(client: ApiClient, driver: QueueDriver) -> None:
    with serve_receiver() as receiver:
        sub = subscribe(client, receiver, ["*"])
        old = sub["signingSecret"]
        rotated = client.post(f"/webhooks/subscriptions/{sub['subscriptionId']}/rotate-secret").json
        receiver.trust(old, rotated["signingSecret"])
        publish(client, "Overlap", {})
        driver.drain()
        assert receiver.verification_errors == []
        assert len(receiver.accepted()) == 1
        assert len(receiver.accepted()[0].headers["webhook-signature"].split(" ")) == 2

        ended = client.post(
            f"/webhooks/subscriptions/{sub['subscriptionId']}/rotate-secret", {"overlapSeconds": 0}
        ).json
        receiver.trust(ended["signingSecret"])
        publish(client, "AfterOverlap", {})
        driver.drain()
        assert receiver.verification_errors == []
        latest = receiver.accepted()[-1]
        assert latest.body["type"] == "AfterOverlap"
        assert len(latest.headers["webhook-signature"].split(" ")) == 1


def test_gone_disables_the_subscription_and_tells_the_tenant(client: ApiClient, driver: QueueDriver) -> None:
    with serve_receiver(Behaviour(status=410)) as gone, serve_receiver() as operator:
        sub = subscribe(client, gone, ["Deploy*"])
        subscribe(client, operator, ["WebhookSubscriptionDisabled"])
        publish(client, "DeployStarted", {})
        driver.drain()
        assert len(gone.received) == 1
        fetched = client.get(f"/webhooks/subscriptions/{sub['subscriptionId']}").json
        assert fetched["status"] == "Disabled" and "410" in fetched["disabledReason"]
        [notice] = operator.accepted()
        assert notice.body["data"]["subscriptionId"] == sub["subscriptionId"]
        publish(client, "DeployFinished", {})
        driver.drain()
        assert len(gone.received) == 1

        gone.behaviour.status = None
        enabled = client.request(
            "PATCH", f"/webhooks/subscriptions/{sub['subscriptionId']}", json_body={"active": True}
        )
        assert enabled.json["status"] == "Active" and "disabledReason" not in enabled.json
        publish(client, "DeployAgain", {})
        driver.drain()
        assert [r.body["type"] for r in gone.accepted()] == ["DeployAgain"]


def test_retry_after_is_honoured(client: ApiClient, driver: QueueDriver, capsys: pytest.CaptureFixture[str]) -> None:
    with serve_receiver(Behaviour(status=429, retry_after="120")) as busy:
        sub = subscribe(client, busy, ["*"])
        publish(client, "Busy", {})
        capsys.readouterr()
        driver.invoke(driver.receive())
        emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "DeliveryAttempted" in line]
        assert [(m["DeliveryAttempted"], m["outcome"]) for m in emitted] == [([1.0], "failed")]  # no tenant, no id
        [attempt] = attempts(client, sub["subscriptionId"])
        assert attempt["status"] == "Retrying" and attempt["statusCode"] == 429
        wait = parse_time(attempt["nextRetryAt"]) - parse_time(attempt["attemptedAt"])
        assert wait.total_seconds() >= 119
        assert driver.receive() == [], "the retry waits in SQS as a delayed message"
        client.request("DELETE", f"/webhooks/subscriptions/{sub['subscriptionId']}")


def test_delays_past_fifteen_minutes_are_chained(client: ApiClient, driver: QueueDriver, tenant: str) -> None:
    with serve_receiver() as receiver:
        sub = subscribe(client, receiver, ["*"])
        due = time.time() + 5 * 3600
        message = DispatchMessage(
            tenant_id=tenant,
            subscription_id=sub["subscriptionId"],
            event_id="evt-later",
            event_type="Later",
            payload={"id": "evt-later", "type": "Later", "timestamp": "2026-01-01T00:00:00Z", "data": {}},
            due_at=due,
        )
        queue.send_batch([message])
        driver.invoke(driver.receive())
        assert receiver.received == [], "not due yet: re-delayed, not sent"
        assert driver.receive() == []
        delayed = aws.sqs().get_queue_attributes(
            QueueUrl=driver.url, AttributeNames=["ApproximateNumberOfMessagesDelayed"]
        )
        assert int(delayed["Attributes"]["ApproximateNumberOfMessagesDelayed"]) >= 1
        client.request("DELETE", f"/webhooks/subscriptions/{sub['subscriptionId']}")


def test_one_bad_record_does_not_fail_its_batch_mates(client: ApiClient, driver: QueueDriver) -> None:
    with serve_receiver() as receiver:
        subscribe(client, receiver, ["*"])
        for n in range(3):
            publish(client, "Batch", {"n": n})
        aws.sqs().send_message(QueueUrl=driver.url, MessageBody="not json")
        messages: list[dict[str, object]] = []
        while len(messages) < 4:
            messages.extend(driver.receive())
        result = driver.handler(lambda_event(messages, driver.name), None)
        poison = next(m["MessageId"] for m in messages if m["Body"] == "not json")
        assert result == {"batchItemFailures": [{"itemIdentifier": poison}]}
        assert len(receiver.accepted()) == 3
        for message in messages:
            aws.sqs().delete_message(QueueUrl=driver.url, ReceiptHandle=str(message["ReceiptHandle"]))
