"""One scenario's bill: its metered calls and timed invocations, priced line by line per million events.

What each line charges is ``bench.prices``; which front and how much memory, ``bench.stack`` (the template
and config of the prod stage). A destination's write (the dispatcher's SQS, SNS, EventBridge or Kinesis call)
is a line of its own: the account that owns the resource pays it.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bench import prices, stack

if TYPE_CHECKING:
    from bench.capacity import Call
    from bench.pipeline import Invocation

STAGE = "prod"
# Whose invocation a pipeline phase is: the function's name in app.py (its memory is read by that name).
PHASE_FUNCTIONS = {
    "api": "api_handler",
    "stream": "events_stream",
    "dispatcher": "outbound_dispatch",
    "run worker": "run_operations",
}
# A dispatcher's write to a destination (a tenant's queue, topic, bus or stream), priced per unit below.
DESTINATION_WRITES = {
    "sqs.SendMessage": prices.SQS_PER_REQUEST,
    "sqs.SendMessageBatch": prices.SQS_PER_REQUEST,
    "sns.Publish": prices.SNS_PER_PUBLISH,
    "sns.PublishBatch": prices.SNS_PER_PUBLISH,
    "events.PutEvents": prices.EVENTBRIDGE_PER_ENTRY,
    "kinesis.PutRecord": prices.KINESIS_PER_RECORD_KB,
    "kinesis.PutRecords": prices.KINESIS_PER_RECORD_KB,
}
FRONT_PRICES = {"http": prices.API_GATEWAY_HTTP_PER_REQUEST, "rest": prices.API_GATEWAY_REST_PER_REQUEST}


def fronts() -> dict[str, str]:
    """Which API Gateway front serves each kind of request: ingest as the template says, management on REST."""
    return {"ingest": stack.ingest_front(), "management": "rest"}


def memory_gb() -> dict[str, float]:
    return {phase: stack.memory_mb(function, STAGE) / 1024 for phase, function in PHASE_FUNCTIONS.items()}


def is_destination_write(call: Call) -> bool:
    return call.phase == "dispatcher" and call.operation in DESTINATION_WRITES


@dataclass
class Figures:
    """One scenario's totals over ``events`` events."""

    key: str
    name: str
    events: int
    calls: list[Call]
    invocations: list[Invocation]
    log_bytes: int
    events_per_second: float  # the rate it ran at here: counters flushed by time cost less per event at more

    def per_event(self, value: float) -> float:
        return value / self.events

    @property
    def ours(self) -> int:
        return sum(1 for c in self.calls if c.phase != "esm")

    @property
    def esm(self) -> int:
        return sum(1 for c in self.calls if c.phase == "esm")

    @property
    def wru(self) -> float:
        return sum(c.wru for c in self.calls)

    @property
    def rru(self) -> float:
        return sum(c.rru for c in self.calls)

    @property
    def bus_entries(self) -> int:
        """EventBridge entries put, by the stream or by a destination: none unless a destination asks."""
        return sum(c.chunks for c in self.calls if c.operation == "events.PutEvents")

    def bill(self) -> dict[str, float]:
        """Dollars per million events, per line of the bill."""
        front_of, memory = fronts(), memory_gb()
        front = sum(FRONT_PRICES[front_of[i.front]] for i in self.invocations if i.phase == "api")
        gb_seconds = sum(math.ceil(i.seconds * 1000) / 1000 * memory[i.phase] for i in self.invocations)
        platform = [c for c in self.calls if not is_destination_write(c)]
        lines = {
            "front": front,
            "lambda requests": len(self.invocations) * prices.LAMBDA_PER_REQUEST,
            "lambda GB-s": gb_seconds * prices.LAMBDA_PER_GB_SECOND,
            "dynamodb writes": self.wru * prices.DYNAMODB_PER_WRU,
            "dynamodb reads": self.rru * prices.DYNAMODB_PER_RRU,
            "sqs": sum(c.chunks for c in platform if c.operation.startswith("sqs.")) * prices.SQS_PER_REQUEST,
            "eventbridge": sum(c.chunks for c in platform if c.operation == "events.PutEvents")
            * prices.EVENTBRIDGE_PER_ENTRY,
            "secrets manager": sum(1 for c in platform if c.operation.startswith("secretsmanager."))
            * prices.SECRETS_MANAGER_PER_CALL,
            "cloudwatch logs": self.log_bytes / 1024**3 * prices.CLOUDWATCH_LOGS_PER_GB,
            "destination write": sum(
                c.chunks * DESTINATION_WRITES[c.operation] for c in self.calls if is_destination_write(c)
            ),
        }
        return {line: self.per_event(value) * prices.MILLION for line, value in lines.items()}

    def total(self) -> float:
        return sum(self.bill().values())

    def wru_by_call(self) -> dict[str, float]:
        """Write units per event by ``phase: operation``, largest first: which write the bill's largest line is."""
        units: dict[str, float] = {}
        for call in self.calls:
            name = f"{call.phase}: {call.operation}"
            units[name] = units.get(name, 0.0) + call.wru
        ranked = sorted(units.items(), key=lambda item: -item[1])
        return {name: round(self.per_event(wru), 2) for name, wru in ranked if wru}

    def cpu_by_phase(self) -> dict[str, float]:
        """CPU milliseconds per invocation of each phase (the ingest request's is the API's in inbound rows)."""
        by_phase: dict[str, list[float]] = {}
        for invocation in self.invocations:
            by_phase.setdefault(invocation.phase, []).append(invocation.cpu_seconds * 1000)
        return {phase: round(sum(ms) / len(ms), 2) for phase, ms in by_phase.items()}

    def detail(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "calls": round(self.per_event(self.ours), 2),
            "esmCalls": round(self.per_event(self.esm), 2),
            "wru": round(self.per_event(self.wru), 2),
            "rru": round(self.per_event(self.rru), 2),
            "eventBridgeEntries": round(self.per_event(self.bus_entries), 2),
            "lambdaMs": round(self.per_event(sum(i.seconds for i in self.invocations)) * 1000, 2),
            "lambdaCpuMs": round(self.per_event(sum(i.cpu_seconds for i in self.invocations)) * 1000, 2),
            "logBytes": round(self.per_event(self.log_bytes)),
            "eventsPerSecond": round(self.events_per_second, 1),
            "cpuMsByPhase": self.cpu_by_phase(),
            "bill": {line: round(value, 2) for line, value in self.bill().items()},
            "operations": operations(self),
            "wruByCall": self.wru_by_call(),
        }


def operations(figures: Figures) -> dict[str, float]:
    counted = Counter(f"{c.phase}: {c.operation}" for c in figures.calls)
    return {name: count / figures.events for name, count in sorted(counted.items())}
