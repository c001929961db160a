"""The flows the other e2e modules leave out, over the local runtime: SES and SNS on the platform's own role,
the health sweep, events from the platform bus, a connection's secret deleted with it, the runs, health-check
and bus dead letters reaching their consumers, and the events stream's failure destination reaching its consumer.

``make iam`` runs these with the rest (``infra.iam.check.FLOWS``), so that every action in the policy is
exercised by the function that needs it. The sweep runs in a runtime of its own, whose schedules run at 1/50
of their rate (the health sweep every 1.2 s); the dead letters use the session's, where no sweep runs to
record a check between a dead letter's sending and its consumer.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from tests.e2e.conftest import LocalRuntime, start_runtime
from tests.support.given_up import give_up
from tests.support.waiting import poll

SENDER = "noreply@example.com"
PREFIX = "integration-platform-dev"
DEAD_PORT_URL = "http://127.0.0.1:9/api"  # nothing listens: every vendor call fails, and is retried


@pytest.fixture(scope="module")
def sweeping(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRuntime]:
    started = start_runtime(
        tmp_path_factory.mktemp("sweeping-runtime"), LOCAL_SCHEDULE_SCALE="0.02", HEALTH_CHECK_RATE_MINUTES="1"
    )
    yield started
    started.stop()


def aws(runtime: LocalRuntime, service: str) -> Any:
    """A client of the runtime's moto, as another AWS account's service or an operator would call it."""
    return boto3.client(  # type: ignore[call-overload]
        service,
        endpoint_url=runtime.moto_url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def send_dead_letter(runtime: LocalRuntime, queue: str, body: dict[str, Any]) -> None:
    sqs = aws(runtime, "sqs")
    url = sqs.get_queue_url(QueueName=f"{PREFIX}-{queue}-dlq")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))


def connect(runtime: LocalRuntime, token: str, body: dict[str, Any]) -> str:
    created = runtime.request("POST", "/integrations/connections", token=token, json_body=body)
    assert created.status == 201, created.body
    return str(created.json["connectionId"])


def run_to_end(runtime: LocalRuntime, token: str, connection_id: str, operation: str, parameters: Any) -> Any:
    path = f"/integrations/connections/{connection_id}/operations/{operation}"
    accepted = runtime.request("POST", path, token=token, json_body={"parameters": parameters})
    assert accepted.status == 202, accepted.body
    location = accepted.header("Location")
    assert location, accepted.headers

    def finished() -> Any:
        run = runtime.request("GET", location, token=token).json
        return run if run["status"] not in ("Pending", "Running") else None

    return poll(finished, f"the {operation} run finishing", explain=runtime.output_tail)


def test_ses_and_sns_send_test_and_sweep_on_the_platform_role(sweeping: LocalRuntime) -> None:
    aws(sweeping, "ses").verify_email_identity(EmailAddress=SENDER)
    token = sweeping.token(f"tenant-{secrets.token_hex(4)}")
    ses = connect(
        sweeping, token, {"providerId": "prov-aws-ses", "displayName": "mail", "configuration": {"fromAddress": SENDER}}
    )
    sns = connect(sweeping, token, {"providerId": "prov-aws-sns", "displayName": "sms", "configuration": {}})
    for connection_id, call in ((ses, "GetSendQuota"), (sns, "GetSMSAttributes")):
        tested = sweeping.request("POST", f"/integrations/connections/{connection_id}/test", token=token)
        assert tested.status == 200, tested.body
        assert tested.json["connectionTest"]["success"] is True and call in tested.json["connectionTest"]["message"]

    email = {"to": ["ada@example.org"], "subject": "Your report", "text": "It is ready."}
    assert run_to_end(sweeping, token, ses, "SendEmail", email)["status"] == "Completed"
    sms = {"to": "+15555550123", "body": "Your code is 1234"}
    assert run_to_end(sweeping, token, sns, "SendSms", sms)["status"] == "Completed"

    health_path = f"/integrations/connections/{ses}/health"
    before = sweeping.request("GET", health_path, token=token).json.get("lastCheck")

    def swept() -> Any:
        health = sweeping.request("GET", health_path, token=token).json
        return health if health.get("lastCheck") not in (None, before) and health["status"] == "Healthy" else None

    poll(swept, "the health sweep checking the SES connection", explain=sweeping.output_tail)


def test_a_deleted_connection_schedules_its_secret_for_deletion(local_runtime: LocalRuntime) -> None:
    token = local_runtime.token(f"tenant-{secrets.token_hex(4)}")
    body = {"providerId": "prov-github", "displayName": "gone", "credentials": {"token": "ghp_e2e_deleted"}}
    connection_id = connect(local_runtime, token, body)
    deleted = local_runtime.request("DELETE", f"/integrations/connections/{connection_id}", token=token)
    assert deleted.status == 200, deleted.body
    assert deleted.json["credentialDeletion"] != "NoSecret", deleted.body


def test_an_event_from_another_service_on_the_bus_and_its_dead_letter_become_platform_events(
    local_runtime: LocalRuntime,
) -> None:
    tenant = f"tenant-{secrets.token_hex(4)}"
    token = local_runtime.token(tenant)
    detail = {"tenantId": tenant, "type": "crm.contact.created", "data": {"contactId": "c-1"}}
    entry = {
        "Source": "acme.crm",
        "DetailType": "contact",
        "Detail": json.dumps(detail),
        "EventBusName": f"{PREFIX}-events",
    }
    put = aws(local_runtime, "events").put_events(Entries=[entry])
    assert put["FailedEntryCount"] == 0
    send_dead_letter(
        local_runtime,
        "bus-events",
        {"id": "dead-1", "source": "acme.crm", "detail": {**detail, "type": "crm.contact.deleted"}},
    )

    for message_id, event_type in (
        (put["Entries"][0]["EventId"], "crm.contact.created"),
        ("dead-1", "crm.contact.deleted"),
    ):
        # The receiver's id for a bus event: derived from the tenant and EventBridge's event id (events/receiver.py).
        path = "/events/evt-" + hashlib.sha256(f"{tenant}/{message_id}".encode()).hexdigest()[:24]

        def recorded(path: str = path) -> Any:
            reply = local_runtime.request("GET", path, token=token)
            return reply.json if reply.status == 200 else None

        event = poll(recorded, f"the {event_type} bus event recorded", explain=local_runtime.output_tail)
        assert event["type"] == event_type


def test_dead_letters_fail_a_pending_run_and_record_a_failed_health_check(local_runtime: LocalRuntime) -> None:
    tenant = f"tenant-{secrets.token_hex(4)}"
    token = local_runtime.token(tenant)
    body = {
        "providerId": "prov-github",
        "displayName": "unreachable",
        "credentials": {"token": "ghp_e2e_unreachable"},
        "configuration": {"baseUrl": DEAD_PORT_URL},
    }
    connection_id = connect(local_runtime, token, body)
    pr = {"owner": "octo", "repo": "hello", "title": "t", "head": "feature", "base": "main"}
    path = f"/integrations/connections/{connection_id}/operations/OpenPullRequest"
    accepted = local_runtime.request("POST", path, token=token, json_body={"parameters": pr})
    assert accepted.status == 202, accepted.body
    run_path = accepted.header("Location")
    assert run_path, accepted.headers

    def retrying() -> Any:
        run = local_runtime.request("GET", run_path, token=token).json
        return run if run["attempts"] >= 1 and run["status"] in ("Pending", "Running") else None

    poll(retrying, "the run failing once and waiting for its retry", explain=local_runtime.output_tail)
    send_dead_letter(local_runtime, "runs", {"tenantId": tenant, "runId": accepted.json["runId"]})
    check = {
        "kind": "check",
        "sweepId": f"sweep-{secrets.token_hex(4)}",
        "tenantId": tenant,
        "connectionId": connection_id,
    }
    send_dead_letter(local_runtime, "health-checks", check)

    def abandoned() -> Any:
        run = local_runtime.request("GET", run_path, token=token).json
        return run if run["status"] == "Failed" else None

    run = poll(abandoned, "the dead-lettered run failed", explain=local_runtime.output_tail)
    assert run["error"]["code"] == "RUN_ABANDONED"

    def check_failed() -> Any:
        health = local_runtime.request("GET", f"/integrations/connections/{connection_id}/health", token=token).json
        return health if check["sweepId"] in (health.get("message") or "") else None

    health = poll(check_failed, "the dead-lettered health check recorded", explain=local_runtime.output_tail)
    assert health["lastCheckFailedAt"]


def test_an_events_stream_batch_given_up_fails_its_delivery_until_a_redrive(local_runtime: LocalRuntime) -> None:
    """Lambda's failure record for a stream batch (its shard and sequence range, not its records), as the events
    stream's mapping sends it to its failure destination; the consumer reads the range back from the stream."""
    tenant = f"tenant-{secrets.token_hex(4)}"
    token = local_runtime.token(tenant)
    created = local_runtime.request(
        "POST",
        "/integrations/connections",
        token=token,
        json_body={"providerId": "prov-github", "displayName": "hooks", "credentials": {"token": "ghp_e2e_dlq"}},
    )
    assert created.status == 201, created.body
    body = json.dumps({"action": "opened", "issue": {"title": "given up"}}).encode()
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "issues",
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": "sha256="
        + hmac.new(created.json["webhookSecret"].encode(), body, hashlib.sha256).hexdigest(),
    }
    accepted = local_runtime.send(
        "POST", created.json["webhookUrl"].removeprefix(local_runtime.base_url), body, headers
    )
    assert accepted.status == 202, accepted.body
    path = f"/webhooks/deliveries/{accepted.json['deliveryId']}"
    event_id = local_runtime.request("GET", path, token=token).json["eventId"]
    give_up(lambda service: aws(local_runtime, service), PREFIX, tenant, event_id)

    def failed() -> Any:
        delivery = local_runtime.request("GET", path, token=token).json
        return delivery if delivery.get("status") == "Failed" else None

    delivery = poll(failed, "the given-up delivery failed", explain=local_runtime.output_tail)
    assert "RetryAttemptsExhausted" in delivery["failureReason"] and delivery["eventId"] == event_id
    redriven = local_runtime.request("POST", f"{path}/redrive", token=token, json_body={})
    assert redriven.status == 202 and redriven.json["status"] == "Processed", redriven.body
