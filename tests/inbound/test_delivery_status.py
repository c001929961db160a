"""Delivery statuses coming back: SES events through a verified SNS subscription, Twilio status callbacks."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode

import pytest

from chalicelib.adapters import twilio_sms
from chalicelib.adapters.base import ExecutionContext
from chalicelib.inbound.signatures import aws_sns
from chalicelib.inbound.signatures.twilio import sign
from chalicelib.runs import store as runs
from tests.inbound.conftest import Hook, post_delivery
from tests.support.api_client import ApiClient
from tests.support.run_driver import settings, start
from tests.support.sns_signer import TOPIC, SnsSigner, serve_sns

PUBLIC = "https://platform.example"


@pytest.fixture
def sns(monkeypatch: pytest.MonkeyPatch) -> Iterator[SnsSigner]:
    with serve_sns() as signer:
        monkeypatch.setenv("SNS_HOST_PATTERN", r"^http://127\.0\.0\.1:\d+/")
        aws_sns._certificates.clear()
        yield signer


def ses_connection(connect: Callable[..., Hook]) -> Hook:
    return connect("prov-aws-ses", configuration={"fromAddress": "noreply@example.com", "snsTopicArns": [TOPIC]})


def ses_event(run_id: str, event: str = "Delivery", **extra: Any) -> str:
    mail = {"messageId": "ses-1", "tags": {"runId": [run_id], "connectionId": ["c"]}}
    return json.dumps({"eventType": event, "mail": mail, **extra})


def post_sns(client: ApiClient, connection_id: str, message: dict[str, Any]) -> Any:
    return post_delivery(
        client, connection_id, json.dumps(message).encode(), {"x-amz-sns-message-type": message["Type"]}
    )


def test_subscription_is_confirmed_and_nothing_is_stored(
    client: ApiClient, connect: Callable[..., Hook], sns: SnsSigner
) -> None:
    hook = ses_connection(connect)
    reply = post_sns(client, hook.connection_id, sns.message("SubscriptionConfirmation", "confirm"))
    assert (reply.status, reply.json) == (200, {"subscription": "Confirmed"})
    assert any("Action=ConfirmSubscription" in path for path in sns.fetched)


@pytest.mark.parametrize("version", ["1", "2"])
def test_a_signed_ses_event_sets_the_runs_delivery(
    client: ApiClient, tenant: str, connect: Callable[..., Hook], sns: SnsSigner, version: str
) -> None:
    hook = ses_connection(connect)
    run = start(client, hook.connection_id, "SendEmail", {"to": ["a@example.org"], "subject": "s", "text": "t"})
    reply = post_sns(client, hook.connection_id, sns.message("Notification", ses_event(run["runId"]), version=version))
    assert reply.status == 202, reply.body
    polled = client.get(f"/integrations/runs/{run['runId']}").json
    assert polled["delivery"]["status"] == "delivery" and polled["delivery"]["at"]
    late = post_sns(client, hook.connection_id, sns.message("Notification", ses_event(run["runId"], "Send")))
    assert late.status == 202
    assert client.get(f"/integrations/runs/{run['runId']}").json["delivery"]["status"] == "delivery"  # never back


def test_forged_foreign_or_off_host_sns_messages_are_refused(
    client: ApiClient, connect: Callable[..., Hook], sns: SnsSigner
) -> None:
    hook = ses_connection(connect)
    forged = sns.message("Notification", ses_event("run-x"))
    forged["Message"] = ses_event("run-y")
    foreign = sns.message("Notification", ses_event("run-x"), topic="arn:aws:sns:us-east-1:999999999999:mine")
    off_host = sns.message("Notification", ses_event("run-x"))
    off_host["SigningCertURL"] = "https://evil.example/cert.pem"
    for message in (forged, foreign, off_host):
        assert post_sns(client, hook.connection_id, message).status == 401


def test_a_status_for_another_connections_run_changes_nothing(
    client: ApiClient, tenant: str, connect: Callable[..., Hook], sns: SnsSigner
) -> None:
    mine, other = ses_connection(connect), ses_connection(connect)
    run = start(client, other.connection_id, "SendEmail", {"to": ["a@example.org"], "subject": "s", "text": "t"})
    assert post_sns(client, mine.connection_id, sns.message("Notification", ses_event(run["runId"]))).status == 202
    stored = runs.get(tenant, run["runId"])
    assert stored is not None and stored.delivery is None


def test_twilio_status_callback_is_verified_over_its_url_and_updates_the_run(
    client: ApiClient, tenant: str, connect: Callable[..., Hook]
) -> None:
    hook = connect("prov-twilio-sms", webhookSecret="twilio-auth-token")
    run = start(client, hook.connection_id, "SendSms", {"to": "+15555550123", "from": "+15555550100", "body": "hi"})
    path = f"/webhooks/deliveries/{hook.connection_id}?{urlencode({'runId': run['runId']})}"
    form = urlencode({"MessageSid": "SM1", "MessageStatus": "delivered", "AccountSid": "AC1"}).encode()
    with settings(PUBLIC_BASE_URL=PUBLIC):
        bad = post(client, path, form, sign("wrong-token", PUBLIC + path, form))
        good = post(client, path, form, sign("twilio-auth-token", PUBLIC + path, form))
        other_run = post(
            client, path.replace(run["runId"], "run-other"), form, sign("twilio-auth-token", PUBLIC + path, form)
        )
    assert (bad.status, good.status, other_run.status) == (401, 202, 401)
    delivery = client.get(f"/integrations/runs/{run['runId']}").json["delivery"]
    assert delivery["status"] == "delivered"


def post(client: ApiClient, path: str, form: bytes, signature: str) -> Any:
    return client.request(
        "POST",
        path,
        body=form,
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature},
        token="",
    )


def test_twilio_sends_carry_a_status_callback_naming_the_run() -> None:
    context = ExecutionContext(
        base_url="https://api.twilio.com", configuration={"accountSid": "AC1"}, run_id="run-1", connection_id="conn-1"
    )
    with settings(PUBLIC_BASE_URL=PUBLIC):
        request = twilio_sms.ADAPTER.operation("SendSms").request(
            {"to": "+1555", "from": "+1556", "body": "x"}, context
        )
    assert request.form["StatusCallback"] == f"{PUBLIC}/webhooks/deliveries/conn-1?runId=run-1"
