"""The platform's event path run in-process on moto, with Lambda's event sources played by hand.

Shared by ``bench.cost`` and the call-chain tests (``tests/bench``). Each step
calls the real handler registered in ``app.py``: the API through the local
gateway, the SQS functions through a Lambda-shaped batch, the events stream
through ``tests.support.streams.StreamPump``. The event source mappings' own
SQS calls (``ReceiveMessage``, ``DeleteMessageBatch``) are made with a client of
their own, counted under the phase ``esm``; the stream mapping's reads are free
and read from moto directly.

Every handler invocation is timed for Lambda's GB-seconds by the CPU it uses
(what this machine would bill for the work itself; Lambda bills wall time, and
on AWS the function waits on the network where moto answers at once): the CPU
of the invoking thread and of the handler pools' threads
(``chalicelib.core.batch``, where a dispatch batch runs concurrently), less
what moto and the meter spent in them (``Meter.outside_cpu``); the fake
subscribers' and vendor's threads are not the function's and are left out. On
top comes the latency the invocation waited on: ``subscriber_seconds`` when it
posted to a subscriber, ``vendor_seconds`` when it called a vendor, once per
invocation (a batch's records are sent concurrently). ``outbound`` counts both
so far (the bench's receivers and vendor say).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from bench.capacity import Call, Meter

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class Invocation:
    phase: str
    cpu_seconds: float
    waited_seconds: float = 0.0
    front: str = ""  # an API request's front: "ingest" (the vendor-facing routes) or "management"

    @property
    def seconds(self) -> float:
        """The billed duration: its CPU plus what it waited on."""
        return self.cpu_seconds + self.waited_seconds


@dataclass
class Pipeline:
    meter: Meter
    batch_size: int = 10
    invocations: list[Invocation] = field(default_factory=list)
    subscriber_seconds: float = 0.0
    vendor_seconds: float = 0.0
    outbound: Callable[[], tuple[int, int]] = lambda: (0, 0)  # (posts to subscribers, vendor calls) so far

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
            with self.meter.as_phase(phase), self._invocation(phase):
                return handler(event, context)

        return run

    @contextmanager
    def _invocation(self, phase: str, front: str = "") -> Iterator[None]:
        threads, outside, outbound = _function_cpu({}), self.meter.outside_cpu, self.outbound()
        try:
            yield
        finally:
            cpu = sum(_function_cpu(threads).values()) - (self.meter.outside_cpu - outside)
            posts, vendor_calls = (now - before for now, before in zip(self.outbound(), outbound, strict=True))
            waited = (self.subscriber_seconds if posts else 0.0) + (self.vendor_seconds if vendor_calls else 0.0)
            self.invocations.append(Invocation(phase, max(cpu, 0.0), waited, front))

    def api(self, call: Callable[[], int], front: str = "management") -> int:
        """One API request (one API function invocation), through ``front``: "ingest" or "management"."""
        with self.meter.as_phase("api"), self._invocation("api", front):
            return call()

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


def _function_cpu(since: dict[int, float]) -> dict[int, float]:
    """CPU seconds of the calling thread and the handler pools' threads, each less its figure in ``since``."""
    from chalicelib.core import batch

    threads = {threading.get_ident()}
    for executor in list(batch._pools.values()):
        threads |= {thread.ident for thread in list(executor._threads) if thread.ident is not None}
    spent = {}
    for ident in threads:
        try:
            clock = time.pthread_getcpuclockid(ident)
            spent[ident] = time.clock_gettime(clock) - since.get(ident, 0.0)
        except (OSError, ProcessLookupError):  # a thread that ended in between: its CPU is not measurable
            continue
    return spent


def _empty_poll(call: Call) -> bool:
    """The mapping's empty ``ReceiveMessage`` is left out: it is paid per queue and poll, not per event."""
    return call.phase == "esm" and call.operation == "sqs.ReceiveMessage" and call.chunks == 0
