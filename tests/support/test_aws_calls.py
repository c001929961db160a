"""The call-counting helper names every service's calls the way the tests compare them."""

from __future__ import annotations

from chalicelib.core import aws
from tests.support.aws_calls import aws_calls


def test_each_services_calls_are_counted_under_its_factorys_name(local_api: object) -> None:
    """botocore's event names for Secrets Manager and EventBridge are ``secrets-manager`` and ``eventbridge``;
    the calls were once counted under those, so a test looking for ``events.PutEvents`` could never find one."""
    with aws_calls() as calls:
        aws.dynamodb().list_tables(Limit=1)
        aws.sqs().list_queues(MaxResults=1)
        aws.secretsmanager().list_secrets(MaxResults=1)
        aws.events().list_event_buses(Limit=1)
        aws.scheduler().list_schedules(MaxResults=1)
    assert [call.operation for call in calls] == [
        "dynamodb.ListTables",
        "sqs.ListQueues",
        "secretsmanager.ListSecrets",
        "events.ListEventBuses",
        "scheduler.ListSchedules",
    ]
