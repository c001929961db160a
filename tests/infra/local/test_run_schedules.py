"""The local EventBridge Scheduler stand-in: moto's stored schedules fired into their SQS target."""

from __future__ import annotations

import json
from typing import Literal

import boto3

from chalicelib.core import aws
from chalicelib.core.config import get_settings
from chalicelib.runs.queue import runs_queue_url
from infra.local.run_schedules import SCHEDULED_TIME, RunSchedules


def _schedule(name: str, expression: str, queue_arn: str, state: Literal["ENABLED", "DISABLED"] = "ENABLED") -> None:
    aws.scheduler().create_schedule(
        Name=name,
        ScheduleExpression=expression,
        FlexibleTimeWindow={"Mode": "OFF"},
        State=state,
        Target={
            "Arn": queue_arn,
            "RoleArn": "arn:aws:iam::000000000000:role/x",
            "Input": json.dumps({"name": name, "scheduledTime": SCHEDULED_TIME}),
        },
    )


def _drain(url: str) -> list[dict[str, str]]:
    found = []
    while messages := aws.sqs().receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            found.append(json.loads(message["Body"]))
            aws.sqs().delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return found


def test_enabled_rate_schedules_fire_once_per_scaled_period_with_the_time_filled_in(local_api: object) -> None:
    url = runs_queue_url()
    arn = aws.sqs().get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    prefix = f"{get_settings().resource_prefix}-local-test-"
    _schedule(prefix + "rate", "rate(5 minutes)", arn)
    _schedule(prefix + "paused", "rate(1 minute)", arn, state="DISABLED")
    _schedule(prefix + "cron", "cron(0 9 ? * MON *)", arn)
    _drain(url)
    firer = RunSchedules(boto3.client("scheduler"), boto3.client("sqs"), prefix, scale=0.01)
    firer.tick(100.0)  # first seen: due one period (3 s scaled) later
    firer.tick(102.0)
    assert _drain(url) == [] and firer.skipped == {prefix + "cron"}
    firer.tick(103.0)
    firer.tick(103.5)
    [fired] = _drain(url)
    assert fired["name"] == prefix + "rate" and fired["scheduledTime"].endswith("Z")
    assert SCHEDULED_TIME not in json.dumps(fired)
    aws.scheduler().delete_schedule(Name=prefix + "rate")
    firer.tick(200.0)
    assert _drain(url) == [] and firer.due == {}
