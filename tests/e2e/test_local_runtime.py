"""``make run`` end to end: a real process, real HTTP, tokens from the token command."""

from __future__ import annotations

import json
import secrets
import signal
from pathlib import Path

import boto3
import pytest

from tests.e2e.conftest import LocalRuntime, port_open, start_runtime
from tests.support.waiting import poll


def test_startup_says_where_how_and_that_state_is_in_memory(local_runtime: LocalRuntime) -> None:
    output = local_runtime.output
    assert f"listening on {local_runtime.base_url}" in output
    assert "make token TENANT=acme" in output
    assert "in memory" in output
    print(f"runtime ready after {local_runtime.ready_seconds:.2f}s")


def test_health_and_jwks(local_runtime: LocalRuntime) -> None:
    health = local_runtime.request("GET", "/health")
    assert health.status == 200, health.body
    assert health.json["status"] == "Healthy"
    assert health.header("X-Trace-Id")
    jwks = local_runtime.request("GET", "/.well-known/jwks.json")
    assert jwks.status == 200
    assert jwks.json["keys"][0]["kid"]


def test_provider_and_connection_lifecycle_over_http(local_runtime: LocalRuntime) -> None:
    tenant = f"tenant-{secrets.token_hex(4)}"
    token = local_runtime.token(tenant)
    provider = local_runtime.request(
        "POST",
        "/integrations/providers",
        token=token,
        json_body={
            "key": f"acme-{secrets.token_hex(3)}",
            "displayName": "Acme CRM",
            "authModel": "BearerToken",
            "baseUrl": "http://127.0.0.1:9/api",
        },
    )
    assert provider.status == 201, provider.body
    provider_id = provider.json["providerId"]

    created = local_runtime.request(
        "POST",
        "/integrations/connections",
        token=token,
        json_body={
            "providerId": provider_id,
            "displayName": "Acme main",
            "credentials": {"token": "s3cret-value-e2e"},
            "configuration": {"baseUrl": "http://127.0.0.1:9/api"},
        },
    )
    assert created.status == 201, created.body
    connection_id = created.json["connectionId"]

    got = local_runtime.request("GET", f"/integrations/connections/{connection_id}", token=token)
    assert got.status == 200, got.body
    assert got.json["providerId"] == provider_id
    assert got.json["credentialRef"].startswith("kv://")
    assert b"s3cret-value-e2e" not in got.body

    listed = local_runtime.request("GET", "/integrations/connections", token=token)
    assert listed.status == 200, listed.body
    assert connection_id in [item["connectionId"] for item in listed.json["items"]]

    stranger = local_runtime.token(f"tenant-{secrets.token_hex(4)}")
    hidden = local_runtime.request("GET", f"/integrations/connections/{connection_id}", token=stranger)
    assert hidden.status == 404
    anonymous = local_runtime.request("GET", "/integrations/connections")
    assert anonymous.status == 401
    assert anonymous.json["error"]["code"] == "AUTHENTICATION_FAILED"


def test_unknown_route_is_404_in_the_error_shape(local_runtime: LocalRuntime) -> None:
    reply = local_runtime.request("GET", "/no/such/route?x=1", headers={"X-Correlation-Id": "e2e-404"})
    assert reply.status == 404
    assert reply.json == {
        "error": {"code": "RESOURCE_NOT_FOUND", "message": "No route matches GET /no/such/route.", "details": []},
        "traceId": "e2e-404",
    }


def test_a_message_on_a_handled_queue_is_consumed(local_runtime: LocalRuntime) -> None:
    handlers = local_runtime.sqs_handlers()
    assert handlers, "the runtime found no SQS handler in app.py"
    sqs = boto3.client(
        "sqs",
        endpoint_url=local_runtime.moto_url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    for queue in handlers:
        url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
        if queue.endswith(".fifo"):
            sqs.send_message(
                QueueUrl=url, MessageBody='{"e2e": true}', MessageGroupId="e2e", MessageDeduplicationId="e2e"
            )
        else:
            sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"e2e": True}))

        def taken(url: str = url) -> bool:
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
            return bool(attributes["Attributes"]["ApproximateNumberOfMessages"] == "0")

        poll(taken, f"{handlers[queue]} to receive the message on {queue}")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_everything_and_exits_zero(tmp_path: Path, signum: int) -> None:
    runtime = start_runtime(tmp_path)
    assert runtime.request("GET", "/health").status == 200

    code = runtime.stop(signum)  # it exits by itself, not killed; no wall-clock assertion

    assert code == 0, runtime.output
    assert not port_open(runtime.port)
    assert not port_open(runtime.moto_port)
    assert "Stopped." in runtime.output
