"""Calls become the authorizations AWS makes for them, including the ones whose action is not the operation's name."""

from __future__ import annotations

from typing import Any

import pytest

from infra.iam.policy import Request
from infra.iam.requests import Arns, UnknownCall, mapping_requests, requests_for
from infra.iam.template import EventSource

ARNS = Arns("us-east-1", "123456789012")
PREFIX = "arn:aws:dynamodb:us-east-1:123456789012:table"


def test_a_transaction_authorizes_each_item_on_its_own_table_and_has_no_action_of_its_own() -> None:
    items = [
        {"Update": {"TableName": "p-runs"}},
        {"Put": {"TableName": "p-events"}},
        {"ConditionCheck": {"TableName": "p-events"}},
    ]
    assert requests_for("dynamodb", "TransactWriteItems", {"TransactItems": items}, ARNS) == [
        Request("dynamodb:UpdateItem", f"{PREFIX}/p-runs"),
        Request("dynamodb:PutItem", f"{PREFIX}/p-events"),
        Request("dynamodb:ConditionCheckItem", f"{PREFIX}/p-events"),
    ]


def test_queries_on_an_index_and_batches_over_tables() -> None:
    query = {"TableName": "p-connections", "IndexName": "activeSweep"}
    assert requests_for("dynamodb", "Query", query, ARNS) == [
        Request("dynamodb:Query", f"{PREFIX}/p-connections/index/activeSweep")
    ]
    batch: dict[str, Any] = {"RequestItems": {"p-a": {}, "p-b": {}}}
    assert {r.resource for r in requests_for("dynamodb", "BatchGetItem", batch, ARNS)} == {
        f"{PREFIX}/p-a",
        f"{PREFIX}/p-b",
    }


def test_sqs_batches_authorize_the_single_message_action_on_the_queue_of_the_url() -> None:
    url = "http://127.0.0.1:5000/123456789012/p-outbound-ordered.fifo"
    assert requests_for("sqs", "SendMessageBatch", {"QueueUrl": url}, ARNS) == [
        Request("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:p-outbound-ordered.fifo")
    ]
    assert requests_for("sqs", "ChangeMessageVisibilityBatch", {"QueueUrl": url}, ARNS)[0].action == (
        "sqs:ChangeMessageVisibility"
    )


def test_rotation_needs_to_invoke_its_function_and_tags_need_tag_resource() -> None:
    rotate = {"SecretId": "p/acme/c1", "RotationLambdaARN": "arn:aws:lambda:us-east-1:1:function:p-credential_rotation"}
    assert requests_for("secretsmanager", "RotateSecret", rotate, ARNS) == [
        Request("secretsmanager:RotateSecret", "arn:aws:secretsmanager:us-east-1:123456789012:secret:p/acme/c1-AbCdEf"),
        Request("lambda:InvokeFunction", "arn:aws:lambda:us-east-1:1:function:p-credential_rotation"),
    ]
    created = requests_for("secretsmanager", "CreateSecret", {"Name": "p/acme/c1", "Tags": "present"}, ARNS)
    assert [r.action for r in created] == ["secretsmanager:CreateSecret", "secretsmanager:TagResource"]


def test_a_schedule_passes_its_role_to_scheduler_only() -> None:
    params = {"Name": "p-s1", "Target": {"RoleArn": "arn:aws:iam::1:role/p-scheduler", "Arn": "arn:aws:sqs:r:1:p-runs"}}
    schedule, passed = requests_for("scheduler", "CreateSchedule", params, ARNS)
    assert schedule == Request(
        "scheduler:CreateSchedule", "arn:aws:scheduler:us-east-1:123456789012:schedule/default/p-s1"
    )
    assert passed == Request(
        "iam:PassRole", "arn:aws:iam::1:role/p-scheduler", (("iam:PassedToService", "scheduler.amazonaws.com"),)
    )


def test_ses_sends_as_the_address_identity_and_an_sms_has_no_resource() -> None:
    [email] = requests_for("ses", "SendEmail", {"Source": "Acme <noreply@example.com>"}, ARNS)
    assert email.resource == "arn:aws:ses:us-east-1:123456789012:identity/noreply@example.com"
    assert requests_for("sns", "Publish", {"PhoneNumber": "present"}, ARNS) == [Request("sns:Publish", "*")]
    assert requests_for("secretsmanager", "ListSecrets", {}, ARNS) == [Request("secretsmanager:ListSecrets", "*")]


def test_posting_to_a_live_socket_is_manage_connections_on_it() -> None:
    socket = "arn:aws:execute-api:us-east-1:123456789012:websocketapi/api"
    assert requests_for("apigatewaymanagementapi", "PostToConnection", {"ConnectionId": "abc="}, ARNS) == [
        Request("execute-api:ManageConnections", f"{socket}/POST/@connections/abc=")
    ]
    assert requests_for("apigatewaymanagementapi", "DeleteConnection", {"ConnectionId": "abc="}, ARNS) == [
        Request("execute-api:ManageConnections", f"{socket}/DELETE/@connections/abc=")
    ]


def test_an_unknown_call_is_refused_rather_than_guessed() -> None:
    with pytest.raises(UnknownCall, match="kinesis:DeleteStream"):
        requests_for("kinesis", "DeleteStream", {"StreamName": "s"}, ARNS)
    with pytest.raises(UnknownCall, match="events:PutRule"):
        requests_for("events", "PutRule", {"Name": "r"}, ARNS)
    with pytest.raises(UnknownCall, match="dynamodbstreams:GetRecords"):
        requests_for("dynamodbstreams", "GetRecords", {}, ARNS)  # an iterator names its stream; none is given


def test_a_stream_read_is_authorized_on_the_stream_its_iterator_names() -> None:
    stream = f"{PREFIX}/p-events/stream/2026-12-07T00:00:00.000"
    assert requests_for("dynamodbstreams", "GetShardIterator", {"StreamArn": stream, "ShardId": "s"}, ARNS) == [
        Request("dynamodb:GetShardIterator", stream)
    ]
    assert requests_for("dynamodbstreams", "GetRecords", {"ShardIterator": f"{stream}|1|AAAA"}, ARNS) == [
        Request("dynamodb:GetRecords", stream)
    ]


def test_destinations_in_other_accounts_keep_their_account_and_a_tagged_session_needs_tag_session() -> None:
    url = "https://sqs.us-east-1.amazonaws.com/210987654321/their-queue"
    assert requests_for("sqs", "SendMessage", {"QueueUrl": url}, ARNS) == [
        Request("sqs:SendMessage", "arn:aws:sqs:us-east-1:210987654321:their-queue")
    ]
    role = "arn:aws:iam::210987654321:role/platform-writer"
    assert [r.action for r in requests_for("sts", "AssumeRole", {"RoleArn": role, "Tags": "present"}, ARNS)] == [
        "sts:AssumeRole",
        "sts:TagSession",
    ]
    assert requests_for("kinesis", "PutRecords", {"StreamName": "s"}, ARNS) == [
        Request("kinesis:PutRecords", "arn:aws:kinesis:us-east-1:123456789012:stream/s")
    ]


def test_a_destinations_writes_and_policy_reads_authorize_on_the_tenants_resource() -> None:
    """What ``chalicelib.destinations`` calls, under the writer role: each on the ARN it names."""
    topic, bus = "arn:aws:sns:us-east-1:210987654321:t", "arn:aws:events:us-east-1:210987654321:event-bus/b"
    stream = "arn:aws:kinesis:us-east-1:210987654321:stream/s"
    url, queue = "https://sqs.us-east-1.amazonaws.com/210987654321/q", "arn:aws:sqs:us-east-1:210987654321:q"
    cases: list[tuple[str, str, dict[str, Any], Request]] = [
        (
            "sqs",
            "GetQueueAttributes",
            {"QueueUrl": url},
            Request("sqs:GetQueueAttributes", queue),
        ),
        ("sns", "Publish", {"TopicArn": topic}, Request("sns:Publish", topic)),
        ("sns", "GetTopicAttributes", {"TopicArn": topic}, Request("sns:GetTopicAttributes", topic)),
        ("events", "PutEvents", {"Entries": [{"EventBusName": bus}]}, Request("events:PutEvents", bus)),
        ("events", "DescribeEventBus", {"Name": bus}, Request("events:DescribeEventBus", bus)),
        ("kinesis", "PutRecord", {"StreamARN": stream}, Request("kinesis:PutRecord", stream)),
        ("kinesis", "GetResourcePolicy", {"ResourceARN": stream}, Request("kinesis:GetResourcePolicy", stream)),
    ]
    for service, operation, params, request in cases:
        assert requests_for(service, operation, params, ARNS) == [request], operation
    with pytest.raises(UnknownCall, match="sns:GetTopicAttributes"):
        requests_for("sns", "GetTopicAttributes", {}, ARNS)


def test_event_source_mappings_need_what_lambda_documents() -> None:
    stream = EventSource("DynamoDB", f"{PREFIX}/p-events/stream/x", "arn:aws:sqs:us-east-1:1:p-events-failed")
    assert [r.action for r in mapping_requests(stream)] == [
        "dynamodb:DescribeStream",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:ListStreams",
        "sqs:SendMessage",
    ]
    queue = EventSource("SQS", "arn:aws:sqs:us-east-1:1:p-runs")
    assert {r.action for r in mapping_requests(queue)} == {
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
    }
