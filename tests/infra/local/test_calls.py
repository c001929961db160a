"""The call log ``make iam`` reads: who called, what, on which resource, and never a value."""

from __future__ import annotations

import contextvars
import json
import threading
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from chalicelib.core import aws as clients
from chalicelib.core.config import get_settings
from infra.local.calls import acting_as, record_calls


def logged(directory: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for path in directory.glob("calls-*.jsonl") for line in path.read_text().splitlines()]


def test_each_call_is_recorded_with_its_function_and_only_the_names_of_its_resources(tmp_path: Path) -> None:
    session = boto3.session.Session(region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    assert record_calls(session, {"IAM_CALL_LOG": str(tmp_path)}) is not None
    client = session.client("secretsmanager")
    with Stubber(client) as stub:
        stub.add_response("create_secret", {"ARN": "arn:aws:secretsmanager:us-east-1:1:secret:p/a-AbCdEf"})
        stub.add_response("get_secret_value", {"SecretString": "s"})
        with acting_as("api_handler"):
            client.create_secret(Name="p/a", SecretString="hunter2-value", Tags=[{"Key": "tenant", "Value": "acme"}])
        client.get_secret_value(SecretId="p/a")
    first, second = logged(tmp_path)
    assert first == {
        "function": "api_handler",
        "service": "secretsmanager",
        "operation": "CreateSecret",
        "params": {"Name": "p/a", "Tags": "present"},
    }
    assert second["function"] is None  # made outside any function: the check refuses it
    assert "hunter2" not in "".join(path.read_text() for path in tmp_path.iterdir())


def test_a_shard_iterator_is_recorded_as_the_stream_it_names_not_its_position(tmp_path: Path) -> None:
    session = boto3.session.Session(region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    assert record_calls(session, {"IAM_CALL_LOG": str(tmp_path)}) is not None
    client = session.client("dynamodbstreams")
    stream = "arn:aws:dynamodb:us-east-1:1:table/p-events/stream/2026-12-07T00:00:00.000"
    with Stubber(client) as stub:
        stub.add_response("get_records", {"Records": []})
        with acting_as("events_stream_failures"):
            client.get_records(ShardIterator=f"{stream}|1|AAAAsecretpositionZZZZ")
    [call] = logged(tmp_path)
    assert call["params"] == {"ShardIterator": stream}


def test_the_function_follows_a_copied_context_into_threads_and_no_further(tmp_path: Path) -> None:
    session = boto3.session.Session(region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    record_calls(session, {"IAM_CALL_LOG": str(tmp_path)})
    client = session.client("sqs")
    with Stubber(client) as stub:
        for _ in range(2):
            stub.add_response(
                "send_message", {"MessageId": "m", "MD5OfMessageBody": "d41d8cd98f00b204e9800998ecf8427e"}
            )

        def send() -> None:
            client.send_message(QueueUrl="http://q/1/p-runs", MessageBody="")

        with acting_as("run_operations"):
            copied = contextvars.copy_context()
            threads = [threading.Thread(target=copied.run, args=(send,)), threading.Thread(target=send)]
            for thread in threads:
                thread.start()
                thread.join()
    assert [c["function"] for c in logged(tmp_path)] == ["run_operations", None]


def test_nothing_is_recorded_unless_asked() -> None:
    session = boto3.session.Session(region_name="us-east-1")
    assert record_calls(session, {}) is None


def test_a_call_under_the_writer_role_names_the_role_and_assuming_it_is_the_functions(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """The tenant sessions share the app Session's hooks, so the writer's calls are recorded too, each naming
    the role it ran under; the AssumeRole that made the session is the function's own call."""
    request.getfixturevalue("aws")  # moto
    clients.reset_clients()  # a fresh Session, so the log's hook reaches every client made from here
    try:
        record_calls(clients.session(), {"IAM_CALL_LOG": str(tmp_path)})
        with acting_as("outbound_dispatch"):
            clients.as_tenant("sqs", "acme").list_queues()
    finally:
        clients.reset_clients()
    role = get_settings().destination_role_arn
    listed, assumed = logged(tmp_path)  # the role is assumed when the first call is signed, after it is recorded
    assert (listed["function"], listed.get("role"), listed["operation"]) == ("outbound_dispatch", role, "ListQueues")
    assert (assumed["function"], "role" in assumed, assumed["operation"]) == ("outbound_dispatch", False, "AssumeRole")
    assert assumed["params"] == {"RoleArn": role, "Tags": "present"}
