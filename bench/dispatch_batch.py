"""Dispatcher batch time against receiver latency, and AWS calls per fan-out.

Runs in-process on moto (the template's resources) with a real receiver on
127.0.0.1 that answers every request after 200 ms. Prints:

- the wall time of one dispatcher invocation (the real Chalice SQS handler)
  with a batch of 10 records, as a ratio to 200 ms (target <= 1.5; sequential
  sending would be about 10);
- the AWS calls one ``emit`` makes to record an event, and those the events
  stream handler makes to fan the recorded events out, counted with botocore
  ``before-call`` hooks on the clients from ``chalicelib.core.aws``.

Usage: ``.venv/bin/python -m bench.dispatch_batch``
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from typing import Any

from bench import environment

environment.apply(POWERTOOLS_LOG_LEVEL="WARNING")

RECEIVER_DELAY = 0.2
BATCH = 10
ROUNDS = 5


def count_calls(counter: Counter[str]) -> None:
    from chalicelib.core import aws

    def hook(model: Any, **_: Any) -> None:
        counter[f"{model.service_model.service_name}.{model.name}"] += 1

    for client in (aws.dynamodb(), aws.sqs(), aws.secretsmanager()):
        client.meta.events.register("before-call.*.*", hook)


def lambda_event(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": {},
                "messageAttributes": {},
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:outbound-dispatch",
                "awsRegion": "us-east-1",
            }
            for m in messages
        ]
    }


def receive_batch(url: str) -> list[dict[str, Any]]:
    from chalicelib.core import aws

    messages: list[dict[str, Any]] = []
    while len(messages) < BATCH:
        response = aws.sqs().receive_message(QueueUrl=url, MaxNumberOfMessages=BATCH - len(messages))
        messages.extend(dict(message) for message in response.get("Messages", []))
    return messages


def main() -> None:
    from moto import mock_aws

    with mock_aws():
        from chalicelib.core.config import get_settings
        from infra.local.provision import provision

        provision(get_settings().resource_prefix)
        run()


def run() -> None:
    from app import outbound_dispatch
    from chalicelib.core import aws
    from chalicelib.events.emit import emit
    from chalicelib.outbound import queue, service
    from chalicelib.outbound.subscription_requests import CreateSubscriptionRequest
    from tests.support.receiver import Behaviour, serve_receiver
    from tests.support.streams import StreamPump

    tenant = "tenant-bench"
    calls: Counter[str] = Counter()
    count_calls(calls)
    url = queue.queue_url(queue.dispatch_queue_name())
    with serve_receiver(Behaviour(delay_seconds=RECEIVER_DELAY)) as receiver:
        created, _ = service.create(
            tenant, CreateSubscriptionRequest(event_types=["Bench*"], endpoint_url=receiver.url, active=True)
        )
        receiver.trust(created.signing_secret or "")

        stream = StreamPump(batch_size=BATCH)
        per_emit: list[Counter[str]] = []
        for n in range(BATCH * (ROUNDS + 1)):
            before = Counter(calls)
            emit(tenant, "BenchEvent", {"n": n}, source="bench")
            per_emit.append(calls - before)
        before = Counter(calls)
        fanned_out = stream.pump()
        fan_out_calls = calls - before

        timings: list[float] = []
        dispatch_calls = Counter[str]()
        for _ in range(ROUNDS + 1):
            event = lambda_event(receive_batch(url))
            before = Counter(calls)
            started = time.perf_counter()
            result = outbound_dispatch(event, None)
            timings.append(time.perf_counter() - started)
            dispatch_calls = calls - before
            assert result == {"batchItemFailures": []}, result
            for record in event["Records"]:
                aws.sqs().delete_message(QueueUrl=url, ReceiptHandle=record["receiptHandle"])
        assert not receiver.verification_errors, receiver.verification_errors
        assert len(receiver.accepted()) == BATCH * (ROUNDS + 1)

    first, warm = timings[0], timings[1:]
    print(f"receiver latency: {RECEIVER_DELAY * 1000:.0f} ms, batch of {BATCH}")
    print(f"first invocation: {first * 1000:.0f} ms  ratio {first / RECEIVER_DELAY:.2f}")
    median = statistics.median(warm)
    print(f"warm invocations: median {median * 1000:.0f} ms  ratio {median / RECEIVER_DELAY:.2f} (target <= 1.5)")
    cold, steady = per_emit[0], per_emit[-1]
    print(f"AWS calls per emit (record), first in process: {sum(cold.values())} {dict(cold)}")
    print(f"AWS calls per emit, steady state: {sum(steady.values())} {dict(steady)}")
    per_event = {name: round(count / fanned_out, 2) for name, count in fan_out_calls.items()}
    print(f"AWS calls per event fanned out by the stream handler ({stream.invocations} batches): {per_event}")
    print(f"AWS calls per warm dispatcher invocation of {BATCH}: {sum(dispatch_calls.values())} {dict(dispatch_calls)}")


if __name__ == "__main__":
    main()
