"""The access check: a real write through the tenant's session, then the policy must be this tenant's grant."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from pydantic import BaseModel

from chalicelib.api.requests import parse_json_body
from chalicelib.core import aws as clients
from chalicelib.core.config import get_settings
from chalicelib.core.errors import ServiceUnavailable, ValidationFailed
from chalicelib.destinations import access
from chalicelib.destinations.errors import DestinationAccessDenied
from chalicelib.destinations.models import (
    Destination,
    EventBridgeDestination,
    KinesisDestination,
    SnsDestination,
    SqsDestination,
    WebhookDestination,
)
from tests.destinations.conftest import Queue


def grant(resource: str, action: str, *tenants: str, principal: Any = None) -> dict[str, Any]:
    """The policy the docs tell a tenant to paste: the write and the policy read, for the writer role, on the tag."""
    read = {"sqs": "sqs:GetQueueAttributes", "sns": "sns:GetTopicAttributes"}.get(action.split(":")[0])
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "IntegrationPlatformWrites",
                "Effect": "Allow",
                "Principal": principal or {"AWS": get_settings().destination_role_arn},
                "Action": [action, *([read] if read else [])],
                "Resource": resource,
                "Condition": {"StringEquals": {"aws:PrincipalTag/tenantId": list(tenants)}},
            }
        ],
    }


def denied(tenant: str, destination: Destination) -> DestinationAccessDenied:
    with pytest.raises(DestinationAccessDenied) as caught:
        access.verify(tenant, destination)
    assert caught.value.status == 422
    return caught.value


def granted_queue(make_queue: Callable[..., Queue], *tenants: str) -> Queue:
    queue = make_queue()
    policy = grant(queue.arn, "sqs:SendMessage", *tenants)
    boto3.client("sqs").set_queue_attributes(QueueUrl=queue.url, Attributes={"Policy": json.dumps(policy)})
    return queue


def test_a_queue_granted_to_the_tenant_passes_and_receives_a_verification(
    make_queue: Callable[..., Queue], tenant: str
) -> None:
    queue = granted_queue(make_queue, tenant)
    access.verify(tenant, SqsDestination(type="sqs", queue_arn=queue.arn), subscription_id="sub-9")
    (message,) = queue.receive()
    body = json.loads(message["Body"])
    assert (body["type"], body["data"]) == ("destination.verification", {})
    attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert attributes == {
        "eventId": body["id"],
        "eventType": "destination.verification",
        "timestamp": body["timestamp"],
        "subscriptionId": "sub-9",
    }


def test_tenant_b_cannot_aim_at_a_queue_granted_to_tenant_a(make_queue: Callable[..., Queue], tenant: str) -> None:
    """The issue's case: A granted the platform on A's tag; B's destination on A's queue is a 422."""
    queue = granted_queue(make_queue, tenant)
    refused = denied(f"{tenant}-b", SqsDestination(type="sqs", queue_arn=queue.arn))
    assert refused.permission == "sqs:SendMessage"
    assert f"aws:PrincipalTag/tenantId = {tenant}-b" in refused.message
    assert refused.details[0].message == "sqs:SendMessage"


def test_a_queue_without_a_policy_is_refused(make_queue: Callable[..., Queue], tenant: str) -> None:
    refused = denied(tenant, SqsDestination(type="sqs", queue_arn=make_queue().arn))
    assert "no resource policy" in refused.message and "sqs:SendMessage" in refused.message


def test_a_queue_that_does_not_exist_is_refused_naming_the_write(aws: None, tenant: str) -> None:
    refused = denied(tenant, SqsDestination(type="sqs", queue_arn=f"arn:aws:sqs:us-east-1:123456789012:gone-{tenant}"))
    assert refused.message.startswith("The platform cannot write to the destination: sqs:SendMessage was refused")
    assert "NonExistentQueue" in refused.message


def test_a_grant_to_someone_else_or_to_anyone_is_not_the_platforms(
    make_queue: Callable[..., Queue], tenant: str
) -> None:
    queue = make_queue()
    for principal in ({"AWS": "arn:aws:iam::999999999999:role/other"}, "*"):
        policy = grant(queue.arn, "sqs:SendMessage", tenant, principal=principal)
        boto3.client("sqs").set_queue_attributes(QueueUrl=queue.url, Attributes={"Policy": json.dumps(policy)})
        refused = denied(tenant, SqsDestination(type="sqs", queue_arn=queue.arn))
        assert "does not grant sqs:SendMessage to the platform's writer role" in refused.message


def test_the_account_as_principal_is_the_platform(make_queue: Callable[..., Queue], tenant: str) -> None:
    queue = make_queue()
    account = get_settings().destination_role_arn.split(":")[4]
    policy = grant(queue.arn, "sqs:*", tenant, principal={"AWS": f"arn:aws:iam::{account}:root"})
    boto3.client("sqs").set_queue_attributes(QueueUrl=queue.url, Attributes={"Policy": json.dumps(policy)})
    access.verify(tenant, SqsDestination(type="sqs", queue_arn=queue.arn))


def test_each_type_granted_to_the_tenant_passes_and_to_another_is_refused(aws: None, tenant: str) -> None:
    name = f"dest-{secrets.token_hex(4)}"
    sns, events, kinesis = boto3.client("sns"), boto3.client("events"), boto3.client("kinesis")
    topic = sns.create_topic(Name=name)["TopicArn"]
    bus = events.create_event_bus(Name=name)["EventBusArn"]
    kinesis.create_stream(StreamName=name, ShardCount=1)
    stream = kinesis.describe_stream(StreamName=name)["StreamDescription"]["StreamARN"]
    sns.set_topic_attributes(
        TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(grant(topic, "sns:Publish", tenant))
    )
    events.put_permission(EventBusName=name, Policy=json.dumps(grant(bus, "events:PutEvents", tenant)))
    kinesis.put_resource_policy(ResourceARN=stream, Policy=json.dumps(grant(stream, "kinesis:PutRecord", tenant)))
    destinations: list[tuple[Destination, str]] = [
        (SnsDestination(type="sns", topic_arn=topic), "sns:Publish"),
        (EventBridgeDestination(type="eventbridge", event_bus_arn=bus), "events:PutEvents"),
        (KinesisDestination(type="kinesis", stream_arn=stream), "kinesis:PutRecord"),
    ]
    for destination, action in destinations:
        access.verify(tenant, destination)
        assert denied("someone-else", destination).permission == action


def test_a_topic_with_only_its_default_policy_is_refused(aws: None, tenant: str) -> None:
    topic = boto3.client("sns").create_topic(Name=f"dest-{secrets.token_hex(4)}")["TopicArn"]
    refused = denied(tenant, SnsDestination(type="sns", topic_arn=topic))
    assert "does not grant sns:Publish" in refused.message


def test_webhooks_and_the_platform_bus_need_no_grant(aws: None, tenant: str) -> None:
    calls: list[str] = []
    for service in ("sqs", "sns", "events", "kinesis"):
        clients.as_tenant(service, tenant).meta.events.register("before-call", lambda **_: calls.append("call"))
    access.verify(tenant, WebhookDestination(url="https://example.com/hook"))
    access.verify(tenant, EventBridgeDestination(type="eventbridge", event_bus_arn=get_settings().event_bus_arn))
    assert calls == []


def test_aws_failing_for_now_is_a_503_not_a_422(
    faulty: Callable[[str], None], make_queue: Callable[..., Queue], tenant: str
) -> None:
    queue = granted_queue(make_queue, tenant)
    faulty("sqs=1")
    with pytest.raises(ServiceUnavailable):
        access.verify(tenant, SqsDestination(type="sqs", queue_arn=queue.arn))


def unreadable_policy(tenant: str) -> Stubber:
    """The tenant's verification accepted, then AWS refusing the writer role the policy read (as it does across
    accounts for an event bus): AWS's answers, stubbed, since moto lets any role read any policy."""
    stub = Stubber(clients.as_tenant("sqs", tenant))
    stub.add_response("send_message", {"MessageId": "m-1"})
    stub.add_client_error("get_queue_attributes", "AccessDenied", http_status_code=403)
    return stub


def test_an_unreadable_policy_is_asked_of_aws_by_a_write_for_no_tenant(
    make_queue: Callable[..., Queue], tenant: str
) -> None:
    """moto enforces no condition, so the write tagged with no tenant goes through: the grant is anyone's."""
    queue = make_queue()
    destination = SqsDestination(type="sqs", queue_arn=queue.arn)
    with unreadable_policy(tenant):
        refused = denied(tenant, destination)
    assert "lets the platform write for any tenant" in refused.message
    assert [json.loads(m["Body"])["type"] for m in queue.receive()] == ["destination.verification"]  # the probe's


def test_an_unreadable_policy_that_refuses_other_tenants_passes(make_queue: Callable[..., Queue], tenant: str) -> None:
    destination = SqsDestination(type="sqs", queue_arn=make_queue().arn)
    with unreadable_policy(tenant), Stubber(clients.as_tenant("sqs", access.NO_TENANT)) as anyone:
        anyone.add_client_error("send_message", "AccessDenied", http_status_code=403)
        access.verify(tenant, destination)
        anyone.assert_no_pending_responses()


class Body(BaseModel):
    destination: Destination


def test_a_wrong_region_arn_is_a_400_naming_the_field() -> None:
    raw = json.dumps({"destination": {"type": "sqs", "queueArn": "arn:aws:sqs:eu-west-1:111122223333:orders"}})
    with pytest.raises(ValidationFailed) as caught:
        parse_json_body({"content-type": "application/json"}, raw.encode(), Body)
    assert caught.value.status == 400
    (detail,) = caught.value.details
    assert detail.field == "destination.sqs.queueArn"
    assert "region 'eu-west-1'" in detail.message


@pytest.mark.parametrize(
    ("statement", "missing"),
    [
        ({"Effect": "Deny"}, "does not grant"),
        ({"Action": "sqs:ReceiveMessage"}, "does not grant"),
        ({"Resource": "arn:aws:sqs:us-east-1:111122223333:other"}, "does not grant"),
        ({"Condition": {"StringLike": {"aws:PrincipalTag/tenantId": "t-1"}}}, "but not on condition"),
        ({"Condition": {}}, "but not on condition"),
        ({"Condition": {"StringEquals": {"AWS:PrincipalTag/TenantId": ["t-0", "t-1"]}}}, None),
        ({"Action": "SQS:Send*", "Resource": "*"}, None),
    ],
)
def test_what_a_policy_statement_must_hold(statement: dict[str, Any], missing: str | None) -> None:
    queue = "arn:aws:sqs:us-east-1:111122223333:orders"
    policy = grant(queue, "sqs:SendMessage", "t-1")
    policy["Statement"] = {**policy["Statement"][0], **statement}  # one statement, not a list: also valid
    found = access.why_not_granted(policy, "sqs:SendMessage", queue, "t-1")
    assert (found is None) if missing is None else (missing in (found or "")), found
