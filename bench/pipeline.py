"""The platform's event path run in-process on moto, with Lambda's event sources played by hand.

Shared by ``bench.cost`` and the call-chain tests (``tests/bench``). Each step
calls the real handler registered in ``app.py``: the API through the local
gateway, the SQS functions through a Lambda-shaped batch, the events stream
through ``tests.support.streams.StreamPump``. The event source mappings' own
SQS calls (``ReceiveMessage``, ``DeleteMessageBatch``) are made with a client of
their own, counted under the phase ``esm``; the stream mapping's reads are free
and read from moto directly. Every handler invocation is timed, for Lambda's
GB-seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.capacity import Call, Meter

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class Invocation:
    phase: str
    seconds: float


@dataclass
class Pipeline:
    meter: Meter
    batch_size: int = 10
    invocations: list[Invocation] = field(default_factory=list)

    def __post_init__(self) -> None:
        import boto3

        from chalicelib.core.config import get_settings
        from tests.support.streams import StreamPump

        self.region = get_settings().region
        self.esm = boto3.client("sqs", region_name=self.region)
        self.meter.watch(self.esm)
        self.stream = StreamPump(batch_size=100)
        self.stream.handler = self._timed("stream", self.stream.handler)

    def _timed(self, phase: str, handler: Handler) -> Handler:
        def run(event: dict[str, Any], context: Any) -> Any:
            started = time.perf_counter()
            with self.meter.as_phase(phase):
                result = handler(event, context)
            self.invocations.append(Invocation(phase, time.perf_counter() - started))
            return result

        return run

    def api(self, call: Callable[[], int]) -> int:
        """One API request (one API function invocation)."""
        started = time.perf_counter()
        with self.meter.as_phase("api"):
            status = call()
        self.invocations.append(Invocation("api", time.perf_counter() - started))
        return status

    def drain(self, queue: str, phase: str, handler: Handler) -> int:
        """Play the queue's event source mapping until it is empty; the number of records handled."""
        from chalicelib.core.config import get_settings
        from infra.local.sqs_poller import lambda_record

        name = get_settings().queue_name(queue)
        with self.meter.as_phase("setup"):
            url = self.esm.get_queue_url(QueueName=name)["QueueUrl"]
        arn = f"arn:aws:sqs:{self.region}:123456789012:{name}"
        timed = self._timed(phase, handler)
        handled = 0
        while True:
            with self.meter.as_phase("esm"):
                messages = self.esm.receive_message(
                    QueueUrl=url, MaxNumberOfMessages=self.batch_size, AttributeNames=["All"]
                ).get("Messages", [])
            if not messages:
                self.meter.discard(_empty_poll)
                return handled
            result = timed({"Records": [lambda_record(m, arn, self.region) for m in messages]}, None)
            failed = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
            done = [m for m in messages if m["MessageId"] not in failed]
            if done:
                with self.meter.as_phase("esm"):
                    self.esm.delete_message_batch(
                        QueueUrl=url,
                        Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
                    )
            handled += len(messages)

    def pump_stream(self) -> int:
        return self.stream.pump()

    def settle(self) -> None:
        """Everything queued flows to its end: runs, the stream, then the dispatcher."""
        import app

        while True:
            moved = self.drain("runs", "run worker", app.run_operations)
            moved += self.pump_stream()
            moved += self.drain("outbound-dispatch", "dispatcher", app.outbound_dispatch)
            if not moved:
                return


def _empty_poll(call: Call) -> bool:
    """The mapping's empty ``ReceiveMessage`` is left out: it is paid per queue and poll, not per event."""
    return call.phase == "esm" and call.operation == "sqs.ReceiveMessage" and call.chunks == 0
