"""The operator's redrive command against ``make run``: the environment the docs give, the counts it prints."""

from __future__ import annotations

import re
import subprocess
import sys

import boto3

from infra.local.invoke import PROJECT_DIR
from tests.e2e.conftest import LocalRuntime
from tests.support.waiting import WAIT_SECONDS

QUEUE = "integration-platform-dev-outbound-dispatch"
DLQ = f"{QUEUE}-dlq"


def test_the_redrive_command_empties_a_dlq_of_the_running_local_platform(local_runtime: LocalRuntime) -> None:
    sqs = boto3.client(
        "sqs",
        endpoint_url=local_runtime.moto_url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    url = sqs.get_queue_url(QueueName=DLQ)["QueueUrl"]
    # The runtime is shared by the session: another test's exhausted delivery may already wait here.
    waiting = int(
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"][
            "ApproximateNumberOfMessages"
        ]
    )
    for n in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=f'{{"e2e-redrive":{n}}}')
    env = {name: value for name, value in local_runtime.env.items() if name != "RESOURCE_PREFIX"}
    env |= {
        "AWS_ENDPOINT_URL": local_runtime.moto_url,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "STAGE": "dev",
    }
    done = subprocess.run(
        [sys.executable, "-m", "infra.ops.redrive", "outbound-dispatch"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=WAIT_SECONDS,
    )
    assert done.returncode == 0, done.stderr
    moved = re.fullmatch(rf"moved (\d+) message\(s\) from {DLQ} to {QUEUE}; 0 failed", done.stdout.strip())
    assert moved, done.stdout
    assert int(moved.group(1)) >= waiting + 3  # more if another test's delivery dead-lettered meanwhile
    visible = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    assert visible["Attributes"]["ApproximateNumberOfMessages"] == "0"
