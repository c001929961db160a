"""Ordered delivery throughput beside unordered, against a receiver that answers after 50 ms.

Runs in-process on moto (the template's queues, FIFO included). Each mode sends
the same events to one subscription and plays Lambda's event source mapping
(receive up to 10, invoke the real Chalice handler, delete what succeeded) until
the receiver has them all:

- unordered: the standard queue, a batch's records sent concurrently;
- ordered, one group: the FIFO queue, one subscription's messages strictly one
  after another (about 1 / receiver latency);
- ordered, 10 keys: ``orderingKey`` spreads the events over 10 groups, which
  run concurrently inside a batch while each keeps its order.

Usage: ``.venv/bin/python -m bench.ordered_dispatch``
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bench import environment

environment.apply(POWERTOOLS_LOG_LEVEL="WARNING", WEBHOOK_SUBSCRIPTION_CACHE_SECONDS="0")

RECEIVER_DELAY = 0.05
EVENTS = 60
KEYS = 10


def drain(url: str, handler: Callable[[dict[str, Any], Any], dict[str, Any]], done: Callable[[], bool]) -> None:
    from chalicelib.core import aws

    deadline = time.monotonic() + 120
    while not done():
        if time.monotonic() > deadline:
            raise RuntimeError("the queue did not deliver every event within 120 s")
        messages = aws.sqs().receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])
        batch = messages.get("Messages", [])
        records: list[dict[str, Any]] = [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": dict(m.get("Attributes", {})),
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "awsRegion": "us-east-1",
            }
            for m in batch
        ]
        if not records:
            continue
        failed = {f["itemIdentifier"] for f in handler({"Records": records}, None)["batchItemFailures"]}
        for record in records:
            if record["messageId"] not in failed:
                aws.sqs().delete_message(QueueUrl=url, ReceiptHandle=record["receiptHandle"])


def measure(label: str, fields: dict[str, Any]) -> float:
    from app import outbound_dispatch, outbound_ordered
    from chalicelib.events.emit import emit
    from chalicelib.outbound import queue, service
    from chalicelib.outbound.subscription_requests import CreateSubscriptionRequest
    from tests.support.receiver import Behaviour, serve_receiver
    from tests.support.streams import StreamPump

    tenant = f"tenant-bench-{label.replace(' ', '-').replace(',', '')}"
    ordered = fields.get("delivery") == "ordered"
    with serve_receiver(Behaviour(delay_seconds=RECEIVER_DELAY)) as receiver:
        request = CreateSubscriptionRequest.model_validate(
            {"eventTypes": ["Bench*"], "endpointUrl": receiver.url, **fields}
        )
        created, _ = service.create(tenant, request)
        receiver.trust(created.signing_secret or "")
        stream = StreamPump()  # the events stream from here on, fanned out as Lambda's stream mapping would
        for n in range(EVENTS):
            emit(tenant, "BenchEvent", {"n": n, "repo": {"id": n % KEYS}}, source="bench")
        stream.pump()
        url = queue.queue_url(queue.ordered_queue_name() if ordered else queue.dispatch_queue_name())
        handler = outbound_ordered if ordered else outbound_dispatch
        started = time.perf_counter()
        drain(url, handler, lambda: len(receiver.accepted()) >= EVENTS)
        elapsed = time.perf_counter() - started
        assert not receiver.verification_errors, receiver.verification_errors
        if ordered and "orderingKey" not in fields:
            assert [r.body["data"]["n"] for r in receiver.accepted()] == list(range(EVENTS))
        service.delete(tenant, created.subscription_id)
    rate = EVENTS / elapsed
    print(f"{label}: {rate:.1f} deliveries/s ({EVENTS} events, {elapsed:.2f} s)")
    return rate


def main() -> None:
    from moto import mock_aws

    with mock_aws():
        from chalicelib.core.config import get_settings
        from infra.local.provision import provision

        provision(get_settings().resource_prefix)
        print(f"receiver latency: {RECEIVER_DELAY * 1000:.0f} ms, one subscription")
        measure("unordered", {})
        measure("ordered, one group", {"delivery": "ordered"})
        measure(f"ordered, {KEYS} keys", {"delivery": "ordered", "orderingKey": "data.repo.id"})


if __name__ == "__main__":
    main()
