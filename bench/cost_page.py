"""The "Cost per event" section of docs/performance.md, from ``python -m bench.cost --json``.

``bench/cost_before.json`` holds the same bench's output at the commit it names (issue 23's starting point,
measured with the prod stage's settings and CPU-time billing), so the page shows each scenario before and
now beside the targets and what Hookdeck and Svix charge, the call chain before and now, and which line of
the bill dominates what remains. Nothing here is tuned: the figures are the bench's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import chain, prices

BEFORE_FILE = Path(__file__).resolve().parent / "cost_before.json"
# Issue 23's targets, dollars per million events (DESIGN.md "Third wave").
TARGETS = {
    "inbound_1_sub_tiny": 8.0,
    "inbound_1_sub_26kb": 12.0,
    "inbound_5_subs": 18.0,
    "inbound_batch_10": 6.0,
    "async_run": 20.0,
}

PHASE_ORDER = ("api", "consumer", "run worker", "stream", "dispatcher", "esm")  # "consumer": the before's inbound hop


def before() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(BEFORE_FILE.read_text())
    return loaded


def section(result: dict[str, Any]) -> list[str]:
    old = before()
    details, assumed = result["details"], result["assumptions"]
    old_details = old["details"]
    rows = []
    for key, dollars in result["scenarios"].items():
        now, then = details[key], old_details.get(key)
        target = TARGETS.get(key)
        verdict = "" if target is None else f"<= ${target:.0f} {'met' if dollars <= target else '**missed**'}"
        was = f"${old['scenarios'][key]:.2f}" if then else "(new)"
        calls = _pair(then, now, lambda d: f"{d['calls']:g} + {d['esmCalls']:g}")
        wru = _pair(then, now, lambda d: f"{d['wru']:g}")
        rows.append(
            f"| {now['name']} | {was} | **${dollars:.2f}** | {verdict} | {calls} | {wru} "
            f"| {now['eventBridgeEntries']:g} | {_top(now['bill'])} | {now['eventsPerSecond']:g} |"
        )
    skipped = [f"| 1 inbound -> 1 {kind} destination | skipped: {why} |" for kind, why in assumed["skipped"].items()]
    lines = list(details["inbound_1_sub_tiny"]["bill"])
    bills = [
        f"| {details[key]['name']} | " + " | ".join(f"{details[key]['bill'][line]:.2f}" for line in lines) + " |"
        for key in result["scenarios"]
    ]
    return [
        "## Cost per event",
        "",
        "`python -m bench.cost --json` (`make bench` runs it): every scenario runs the real handlers in-process on",
        "moto, end to end (Lambda's event sources played by `bench/pipeline.py`), and meters every AWS call, ours",
        "and the SQS event source mappings' (`bench/capacity.py`: DynamoDB units computed from item sizes by",
        "DynamoDB's rules, plus every index entry written). Scenarios send one event at a time (batch size 1, the",
        "worst case) except the batch row. Assumptions, as the bench prints them:",
        "",
        f"- Stage: `{assumed['stage']}`, its variables from `.chalice/config.json` "
        f"({', '.join(f'`{k}={v}`' for k, v in assumed['stageSettings'].items() if k.startswith('RATE_LIMIT'))});",
        f"  changed for one machine: {', '.join(f'`{k}={v}`' for k, v in assumed['notFromStage'].items())}.",
        f"- Lambda: {assumed['lambda']}; a subscriber answers in {assumed['subscriberLatencyMs']} ms and a vendor in "
        f"{assumed['vendorLatencyMs']} ms,",
        f"  waited {assumed['latencyWaited']}; {assumed['awsCallLatency']}. Memory (MB): "
        + ", ".join(f"{k} {v}" for k, v in assumed["lambdaMemoryMb"].items())
        + ".",
        f"- Fronts (read from `infra/template.json`): ingest on {assumed['fronts']['ingest']}, management on "
        f"{assumed['fronts']['management']}; REST ${prices.API_GATEWAY_REST_PER_REQUEST * prices.MILLION:.2f}/M, "
        f"HTTP API ${prices.API_GATEWAY_HTTP_PER_REQUEST * prices.MILLION:.2f}/M.",
        f"- Logs: {assumed['logs']}. Streams: {assumed['streamReads']}.",
        f"- Destinations: {assumed['destinationWrite']}; Kinesis {assumed['kinesis']}.",
        f"- Prices: {assumed['region']}. {assumed['events']} events per scenario.",
        f"- Counters: {assumed['counters']}. Not counted: {assumed['notCounted']}.",
        "",
        f'"Before" is the same bench at `{old["commit"]}` (`{old["command"]}`, kept in `bench/cost_before.json`).',
        f"For comparison: Hookdeck ${prices.HOOKDECK_PER_MILLION:.0f}/M, Svix ${prices.SVIX_PER_MILLION:.0f}/M.",
        "",
        "| Scenario (per event) | $/M before | $/M now | Target | AWS calls, ours + mappings' (before -> now) "
        "| WRU (before -> now) | EventBridge entries | Largest line now ($/M) | Events/s here |",
        "|---|---|---|---|---|---|---|---|---|",
        *rows,
        *skipped,
        "",
        *_remains(details),
        "",
        "An event whose subscriptions have no `eventbridge` destination should put no EventBridge entry (issue 22):",
        "the column above counts every `PutEvents` entry per event, the platform bus's and a destination's.",
        "",
        "Now, by line of the bill ($ per million events):",
        "",
        "| Scenario | " + " | ".join(lines) + " |",
        "|---|" + "---|" * len(lines),
        *bills,
        "",
        "The call chain of one tiny inbound event to one subscriber (calls per event, by phase), before and now:",
        "",
        f"- Before: {_chain(old_details['inbound_1_sub_tiny']['operations'])}",
        f"- Now: {_chain(details['inbound_1_sub_tiny']['operations'])}",
        "",
        "The documented chain (`bench/chain.py`; `tests/bench/test_call_chain.py` fails when a warm path",
        "takes a call or a write unit more):",
        "",
        *(
            f"- {title}: {_documented(documented)} ({wru:g} WRU)"
            for title, documented, wru in (
                ("Inbound delivery", chain.INBOUND, chain.INBOUND_WRU),
                ("Dispatch of one event to one subscriber", chain.DISPATCH, chain.DISPATCH_WRU),
                ("Run", chain.RUN, chain.RUN_WRU),
            )
        ),
        "",
    ]


def _pair(then: dict[str, Any] | None, now: dict[str, Any], show: Callable[[dict[str, Any]], str]) -> str:
    return f"{show(then)} -> {show(now)}" if then else str(show(now))


def _remains(details: dict[str, Any]) -> list[str]:
    """What dominates what remains, per issue 23 scenario: its bill's lines, largest first, and its writes."""
    lines = ["What remains, largest first ($/M; DynamoDB write units per event by call):", ""]
    for key in TARGETS:
        detail = details[key]
        bill = sorted(((v, line) for line, v in detail["bill"].items() if v >= 0.005), reverse=True)
        writes = ", ".join(f"{call} {wru:g}" for call, wru in detail["wruByCall"].items())
        lines.append(f"- {detail['name']}: " + ", ".join(f"{line} {v:.2f}" for v, line in bill) + f". WRU: {writes}.")
    return lines


def _top(bill: dict[str, float]) -> str:
    line, dollars = max(bill.items(), key=lambda item: item[1])
    return f"{line} {dollars:.2f}"


def _chain(operations: dict[str, float]) -> str:
    """Calls per event by phase, in the order an event flows (the mappings' last)."""
    phases: dict[str, list[str]] = {phase: [] for phase in PHASE_ORDER}
    for name, count in operations.items():
        phase, operation = name.split(": ", 1)
        phases.setdefault(phase, []).append(f"{count:g}x `{operation}`")
    return "; ".join(f"{phase}: {', '.join(ops)}" for phase, ops in phases.items() if ops)


def _documented(phases: chain.Chain) -> str:
    return "; ".join(f"{phase}: " + ", ".join(f"{n}x `{op}`" for op, n in ops.items()) for phase, ops in phases.items())
