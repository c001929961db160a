"""Connections on the platform's own IAM role (``AwsIam``: SES, SNS): no credential given, stored, read or rotated.

A connection that tried to read a secret here would fail with 409 (there is none), so a healthy check
proves nothing was read. Runs are in tests/runs/test_dispatch_runs.py.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from chalicelib.core import aws
from chalicelib.core.config import get_settings
from chalicelib.events import store as events
from tests.api.expect import error_of, fields_of
from tests.support.api_client import ApiClient

BASE = "/integrations/connections"
PLATFORM_ROLE = [
    ("prov-aws-ses", {"fromAddress": "noreply@example.com"}, "GetSendQuota"),
    ("prov-aws-sns", {"smsType": "Transactional"}, "GetSMSAttributes"),
]


def tenant_secrets(tenant: str) -> list[str]:
    prefix = f"{get_settings().secret_prefix}{tenant}/"
    pages = aws.secretsmanager().get_paginator("list_secrets").paginate()
    return [s["Name"] for page in pages for s in page["SecretList"] if s["Name"].startswith(prefix)]


def establish(client: ApiClient, provider_id: str, configuration: dict[str, Any], **extra: Any) -> Any:
    body = {"providerId": provider_id, "displayName": "dispatch", "configuration": configuration, **extra}
    return client.post(BASE, body)


@pytest.mark.parametrize(("provider_id", "configuration", "health_call"), PLATFORM_ROLE)
def test_a_connection_without_credentials_checks_and_deletes_without_a_secret(
    client: ApiClient, tenant: str, provider_id: str, configuration: dict[str, Any], health_call: str
) -> None:
    created = establish(client, provider_id, configuration)
    assert created.status == 201, created.body
    assert created.json.get("credentialRef") is None and created.json.get("credentialId") is None
    connection_id = created.json["connectionId"]
    assert tenant_secrets(tenant) == []
    shown = client.get(f"{BASE}/{connection_id}").json
    assert shown["authMode"] == "AwsIam" and "credentialRef" not in shown

    tested = client.post(f"{BASE}/{connection_id}/test")
    assert tested.status == 200, tested.body
    assert tested.json["connectionTest"]["success"] is True
    assert health_call in tested.json["connectionTest"]["message"]
    checked = client.post(f"{BASE}/{connection_id}/health/check")
    assert checked.status == 200, checked.body
    assert checked.json["status"] == "Healthy" and health_call in checked.json["message"]

    before = set(tenant_secrets(tenant))
    deleted = client.request("DELETE", f"{BASE}/{connection_id}")
    assert deleted.status == 200, deleted.body
    assert deleted.json["credentialDeletion"] == "NoSecret"
    assert "credentialId" not in deleted.json and "credentialDeletionDate" not in deleted.json
    assert tenant_secrets(tenant) == [] and set(tenant_secrets(tenant)) <= before
    items = events.TABLE.query(tenant, limit=100, cursor=None).items
    [event] = [events.get(tenant, e["eventId"]) for e in items if e["type"] == "ConnectionDeleted"]
    assert event is not None and event.data["credentialDeletion"] == "NoSecret"


def test_sns_stores_nothing_at_all(client: ApiClient, tenant: str) -> None:
    created = establish(client, "prov-aws-sns", {})
    assert created.status == 201, created.body
    assert tenant_secrets(tenant) == [] and "webhookUrl" not in created.json


def test_ses_stores_nothing_yet_shows_where_its_notifications_go(client: ApiClient, tenant: str) -> None:
    """SES notifications come through SNS, signed with AWS's certificate: no shared secret to generate."""
    created = establish(client, "prov-aws-ses", {"fromAddress": "ops@example.com"})
    assert created.status == 201, created.body
    connection_id = created.json["connectionId"]
    assert tenant_secrets(tenant) == [] and "generatedWebhookSecret" not in created.json
    assert created.json["webhookUrl"].endswith(f"/webhooks/deliveries/{connection_id}")
    listed = client.get(BASE).json["items"]
    assert [c["webhookUrl"] for c in listed if c["connectionId"] == connection_id] == [created.json["webhookUrl"]]
    refused = establish(client, "prov-aws-ses", {"fromAddress": "ops@example.com"}, webhookSecret="whsec_x")
    assert refused.status in (400, 422) and refused.json["error"]["details"][0]["field"] == "webhookSecret"


@pytest.mark.parametrize(("provider_id", "configuration", "health_call"), PLATFORM_ROLE)
@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"credentials": {"token": "unused"}}, "credentials"),
        ({"credentialRef": "kv://connections/someone"}, "credentialRef"),
        ({"authMode": "BearerToken", "credentials": {"token": "unused"}}, "authMode"),
    ],
)
def test_credentials_for_the_platform_role_are_a_400_naming_the_field(
    client: ApiClient,
    tenant: str,
    provider_id: str,
    configuration: dict[str, Any],
    health_call: str,
    extra: dict[str, Any],
    field: str,
) -> None:
    error = error_of(establish(client, provider_id, configuration, **extra), 400, "VALIDATION_ERROR")
    assert fields_of(error) == {field}, error
    assert tenant_secrets(tenant) == []


@pytest.mark.parametrize("provider_id", ["prov-github", "prov-generic-http", "prov-twilio-sms"])
def test_every_other_provider_still_needs_a_credential(client: ApiClient, tenant: str, provider_id: str) -> None:
    error = error_of(establish(client, provider_id, {}), 400, "VALIDATION_ERROR")
    assert fields_of(error) == {"credentials"}, error
    claimed = establish(client, provider_id, {}, authMode="AwsIam")
    assert fields_of(error_of(claimed, 400, "VALIDATION_ERROR")) == {"authMode"}
    assert tenant_secrets(tenant) == []


def test_a_registered_provider_cannot_take_the_platform_role(client: ApiClient) -> None:
    body = {"key": "my-aws", "displayName": "Mine", "authModel": "AwsIam", "baseUrl": "https://api.example.com"}
    error = error_of(client.post("/integrations/providers", body), 400, "VALIDATION_ERROR")
    assert fields_of(error) == {"authModel"}, error


@pytest.mark.parametrize(("provider_id", "configuration", "health_call"), PLATFORM_ROLE)
def test_there_is_nothing_to_change_or_rotate(
    client: ApiClient, tenant: str, provider_id: str, configuration: dict[str, Any], health_call: str
) -> None:
    connection_id = establish(client, provider_id, configuration).json["connectionId"]
    reply = client.request("PUT", f"{BASE}/{connection_id}/credentials", json_body={"credentials": {"token": "n"}})
    message = error_of(reply, 409, "CONFLICT")["message"]
    assert "AwsIam" in message and "no stored credential" in message
    assert tenant_secrets(tenant) == []


def test_a_role_aws_refuses_makes_the_check_unhealthy_not_an_error(client: ApiClient) -> None:
    connection_id = establish(client, "prov-aws-sns", {}).json["connectionId"]
    denied = {"Error": {"Code": "AuthorizationError", "Message": "no"}, "ResponseMetadata": {"HTTPStatusCode": 403}}

    def refuse(**_: Any) -> tuple[Any, dict[str, Any]]:  # what AWS answers a role without sns:GetSMSAttributes
        return SimpleNamespace(status_code=403), denied

    events_of = aws.sns().meta.events
    events_of.register("before-call.sns.GetSMSAttributes", refuse, unique_id="deny-sms-attributes")
    try:
        checked = client.post(f"{BASE}/{connection_id}/health/check")
    finally:
        events_of.unregister("before-call.sns.GetSMSAttributes", unique_id="deny-sms-attributes")
    assert checked.status == 200, checked.body
    assert checked.json["status"] == "Unhealthy" and "AuthorizationError" in checked.json["message"]
