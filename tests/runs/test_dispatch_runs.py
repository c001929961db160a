"""SendEmail through SES and SendSms through SNS, as runs on moto, under the platform's own role."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends
from moto.sns.models import sns_backends

from chalicelib.adapters.aws_services import classify
from chalicelib.adapters.errors import VendorRejected, VendorUnavailable
from chalicelib.core import aws
from chalicelib.core.config import get_settings
from tests.runs.conftest import run_of
from tests.support.api_client import ApiClient
from tests.support.run_driver import connect, deliver, runs_queue, start

SENDER = "noreply@example.com"


def no_secrets(tenant: str) -> bool:
    """No credential secret of the tenant (SES's generated inbound webhook secret aside)."""
    prefix = f"{get_settings().secret_prefix}{tenant}/"
    pages = aws.secretsmanager().get_paginator("list_secrets").paginate()
    names = [s["Name"] for page in pages for s in page["SecretList"] if s["Name"].startswith(prefix)]
    return all(name.endswith("/webhook") for name in names)


def test_send_email_goes_out_through_ses_tagged_with_its_run(client: ApiClient, tenant: str, handler: Any) -> None:
    aws.ses().verify_email_identity(EmailAddress=SENDER)
    connection_id = connect(
        client,
        "https://email.amazonaws.com",
        provider_id="prov-aws-ses",
        configuration={"fromAddress": SENDER},
    )
    email = {"to": ["ada@example.org"], "subject": "Your report", "text": "It is ready.", "html": "<p>It is ready.</p>"}
    accepted = start(client, connection_id, "SendEmail", email)
    deliver(handler, runs_queue(), tenant)
    run = run_of(tenant, accepted["runId"])
    assert run.status == "Completed", run.error
    sent = ses_backends[DEFAULT_ACCOUNT_ID][get_settings().region].sent_messages
    message = next(m for m in sent if m.id == run.result["messageId"])
    assert message.source == SENDER and message.destinations["ToAddresses"] == ["ada@example.org"]
    assert message.subject == "Your report"
    assert aws.ses().get_send_statistics()["SendDataPoints"]
    assert no_secrets(tenant)  # AwsIam: nothing stored, nothing read (a read would have failed the run)


def test_an_unverified_sender_fails_the_run_without_retrying(client: ApiClient, tenant: str, handler: Any) -> None:
    connection_id = connect(
        client,
        "https://email.amazonaws.com",
        provider_id="prov-aws-ses",
        configuration={"fromAddress": "stranger@unverified.example"},
    )
    accepted = start(client, connection_id, "SendEmail", {"to": ["ada@example.org"], "subject": "s", "text": "t"})
    deliver(handler, runs_queue(), tenant)
    run = run_of(tenant, accepted["runId"])
    assert run.status == "Failed" and run.attempts == 1 and run.error is not None
    assert run.error.code == "EXTERNAL_SERVICE_ERROR" and "MessageRejected" in run.error.message


def test_send_sms_publishes_to_the_phone_number(client: ApiClient, tenant: str, handler: Any) -> None:
    connection_id = connect(
        client,
        "https://sns.amazonaws.com",
        provider_id="prov-aws-sns",
        configuration={"senderId": "ACME"},
    )
    accepted = start(client, connection_id, "SendSms", {"to": "+15555550123", "body": "Your code is 1234"})
    deliver(handler, runs_queue(), tenant)
    run = run_of(tenant, accepted["runId"])
    assert run.status == "Completed", run.error
    recorded = sns_backends[DEFAULT_ACCOUNT_ID][get_settings().region].sms_messages
    assert recorded[run.result["messageId"]] == ("+15555550123", "Your code is 1234")
    assert no_secrets(tenant)


def test_a_bad_phone_number_is_refused_when_the_run_is_started(client: ApiClient) -> None:
    connection_id = connect(client, "https://sns.amazonaws.com", provider_id="prov-aws-sns")
    reply = client.post(
        f"/integrations/connections/{connection_id}/operations/SendSms", {"parameters": {"to": "12", "body": "x"}}
    )
    assert reply.status == 422


def test_aws_throttling_is_retried_and_a_rejection_is_final() -> None:
    def error(code: str, status: int) -> ClientError:
        response: Any = {"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}}
        return ClientError(response, "Op")

    assert isinstance(classify(error("Throttling", 400)), VendorUnavailable)
    assert isinstance(classify(error("InternalFailure", 500)), VendorUnavailable)
    rejected = classify(error("MessageRejected", 400))
    assert isinstance(rejected, VendorRejected) and not rejected.retryable
