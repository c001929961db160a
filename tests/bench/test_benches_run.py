"""The quick benches ``make bench`` runs still run, and print the lines ``bench.run_all`` reads.

A bench goes stale silently when the flow under it moves: ``bench.dispatch_batch``
waited forever on an empty queue once fan-out moved from ``emit`` to the events
stream handler. Each runs here as ``make bench`` runs it, in a process of its own,
with a bound on its time; the figures themselves are not asserted.
"""

from __future__ import annotations

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


@pytest.mark.parametrize(("module", "headline"), QUICK_BENCHES, ids=lambda value: str(value))
def test_bench_prints_its_figures(module: list[str], headline: str) -> None:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    ran = subprocess.run(
        [sys.executable, "-m", *module],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert re.search(headline, ran.stdout, re.MULTILINE), ran.stdout[-2000:]
