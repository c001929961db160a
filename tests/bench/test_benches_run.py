"""The quick benches ``make bench`` runs still run, and print the lines ``bench.run_all`` reads.

A bench goes stale silently when the flow under it moves: ``bench.dispatch_batch``
waited forever on an empty queue once fan-out moved from ``emit`` to the events
stream handler. Each runs here as ``make bench`` runs it, in a process of its own,
with a bound on its time; the figures themselves are not asserted.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

QUICK_BENCHES = [
    (["bench.dispatch_batch"], r"^warm invocations: median \d+ ms\s+ratio [0-9.]+"),
    (["bench.inbound_calls", "--deliveries", "5"], r"^warm deliveries:\s+[0-9.]+"),
    (["bench.ingest_latency", "--deliveries", "5"], r"^warm ingest: median [0-9.]+ ms"),
    (["bench.api_calls"], r"^RESULT \{"),
    (["bench.vendor_calls"], r"^RESULT \{"),
    (["bench.live", "--events", "50"], r"^RESULT \{"),
    (["bench.json_reader"], r"^\s*8\.3 KB .*\(x[0-9.]+\)$"),
]


def run_bench(module: list[str]) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    return subprocess.run(
        [sys.executable, "-m", *module],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


@pytest.mark.parametrize(("module", "headline"), QUICK_BENCHES, ids=lambda value: str(value))
def test_bench_prints_its_figures(module: list[str], headline: str) -> None:
    ran = run_bench(module)
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert re.search(headline, ran.stdout, re.MULTILINE), ran.stdout[-2000:]


def test_cost_prints_every_scenario_as_json() -> None:
    """``bench.cost --json`` is one JSON object: issue 23's scenarios, each a positive figure, and its assumptions."""
    ran = run_bench(["bench.cost", "--json", "--events", "2"])
    assert ran.returncode == 0, ran.stderr[-2000:]
    printed = json.loads(ran.stdout)
    scenarios = printed["scenarios"]
    assert {"inbound_1_sub_tiny", "inbound_1_sub_26kb", "inbound_5_subs", "inbound_batch_10", "async_run"} <= set(
        scenarios
    )
    assert all(dollars > 0 for dollars in scenarios.values()), scenarios
    destinations = {"webhook", "sqs", "sns", "eventbridge", "kinesis"}
    assert {k for k in destinations if f"destination_{k}" in scenarios} | set(printed["assumptions"]["skipped"]) == (
        destinations
    )
    assumed = printed["assumptions"]
    assert assumed["stage"] == "prod" and int(assumed["stageSettings"]["RATE_LIMIT_INBOUND_PER_MINUTE"]) > 0
    assert assumed["subscriberLatencyMs"] == 100 and assumed["vendorLatencyMs"] == 300
    tiny = printed["details"]["inbound_1_sub_tiny"]
    assert 0 < tiny["lambdaCpuMs"] < tiny["lambdaMs"]  # billed: its CPU plus the subscriber it waited on
    # The platform bus only on request (issue 22): an EventBridge entry only where a destination asks for one.
    entries = {key: detail["eventBridgeEntries"] for key, detail in printed["details"].items()}
    assert entries == {key: 1.0 if key == "destination_eventbridge" else 0.0 for key in entries}
