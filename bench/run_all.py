"""``make bench``: every figure, measured afresh, written to ``docs/performance.md``.

Each bench runs as its own process (as a user would run it alone), so their
environments and moto sessions never mix; this module only collects their
output, checks the figures against the design targets, and writes the page with
the command, the machine and the date.

    .venv/bin/python -m bench.run_all [--deliveries 200] [--cost-only]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import cost_page
from bench.cold_start import package_is_stale

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "performance.md"
COLD_START_RECORD = ROOT / "bench" / "cold_start.md"  # before/after figures of issues 14 and 20, kept by hand
ZIP = ROOT / "build" / "deployment.zip"
ZIP_TARGET_MB = 8.0  # MB of 1024 * 1024 bytes, as infra/package/finish.py checks it


@dataclass
class Ran:
    command: str
    output: str

    def find(self, pattern: str) -> re.Match[str]:
        match = re.search(pattern, self.output, re.MULTILINE)
        if match is None:
            raise SystemExit(f"`{self.command}` printed no line matching {pattern!r}:\n{self.output}")
        return match

    def result(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.find(r"^RESULT (.*)$").group(1))
        return parsed


def run(*args: str, env: dict[str, str] | None = None) -> Ran:
    command = " ".join(args)
    print(f"$ {command}", flush=True)
    done = subprocess.run(
        args, cwd=ROOT, capture_output=True, text=True, env={**os.environ, **(env or {})}, check=False
    )
    print(done.stdout, end="", flush=True)
    ran = Ran(command, done.stdout.rstrip())
    if done.returncode not in (0, 1) or not ran.output:  # 1: a bench that printed its figures but missed its target
        raise SystemExit(f"`{command}` failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return ran


def package() -> tuple[Ran | None, float]:
    """``make package`` when the zip is missing or older than the code it packages."""
    ran = None
    if package_is_stale():
        ran = run("make", "package")
    return ran, ZIP.stat().st_size / (1024 * 1024)


def machine() -> str:
    uname = platform.uname()
    return (
        f"{uname.system} {uname.release} {uname.machine}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()} ({sys.executable.replace(str(ROOT) + '/', '')})"
    )


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--deliveries", type=int, default=200)
    parser.add_argument(
        "--cost-only", action="store_true", help="re-measure only bench.cost and rewrite its section of the page"
    )
    args = parser.parse_args()
    python = sys.executable
    if args.cost_only:
        rewrite_cost_section(json.loads(run(python, "-m", "bench.cost", "--json").output))
        print(f"rewrote the cost section of {PAGE.relative_to(ROOT)}")
        return 0
    packaged, zip_mb = package()
    cold = run(python, "-m", "bench.cold_start", "--runs", "7", "--importtime", "10")
    calls = run(python, "-m", "bench.api_calls")
    inbound = run(python, "-m", "bench.inbound_calls")
    dispatch = run(python, "-m", "bench.dispatch_batch")
    ordered = run(python, "-m", "bench.ordered_dispatch")
    protection = run(python, "-m", "bench.vendor_calls")
    throughput = run(python, "-m", "bench.throughput", "--deliveries", str(args.deliveries))
    cost = run(python, "-m", "bench.cost", "--json")
    live = run(python, "-m", "bench.live")
    reader = run(python, "-m", "bench.json_reader")

    worst_cold = float(cold.find(r"^worst ratio \(cpu\): ([0-9.]+)").group(1))
    worst_cold_old = float(cold.find(r"^worst ratio to the old floor \(cpu\): ([0-9.]+)").group(1))
    per_request = calls.result()
    warm_inbound = float(inbound.find(r"^warm deliveries:\s+([0-9.]+)").group(1))
    batch_ratio = float(dispatch.find(r"^warm invocations: median \d+ ms\s+ratio ([0-9.]+)").group(1))
    rate = throughput.result()
    ordered_rates = [
        ordered.find(rf"^{mode}: ([0-9.]+) deliveries/s").group(1)
        for mode in ("unordered", "ordered, one group", "ordered, 10 keys")
    ]
    guarded = protection.result()
    inbound_on = per_request["POST /webhooks/deliveries/{id} (inbound, signed)"]["on"]
    pushed = live.result()
    priced = json.loads(cost.output)
    rows = [
        (
            "Cold start to the first client / stack floor, worst function (CPU)",
            f"{worst_cold:.2f}",
            "<= 1.3",
            verdict(worst_cold <= 1.3),
        ),
        ("Same, against the old floor (no pydantic), as before issue 20", f"{worst_cold_old:.2f}", "(figure)", ""),
        (
            "AWS calls, inbound delivery (warm; limit off, on)",
            f"{warm_inbound:.0f}, {inbound_on}",
            "2 (+1 with the limit)",
            verdict(warm_inbound <= 2),
        ),
        ("Dispatcher batch of 10 / receiver latency", f"{batch_ratio:.2f}", "<= 1.5", verdict(batch_ratio <= 1.5)),
        (
            "Ordered delivery, deliveries/s at 50 ms (unordered; ordered one group; 10 keys)",
            "; ".join(ordered_rates),
            "(figure)",
            "",
        ),
        (
            "DynamoDB calls per vendor call (no rateLimit; rateLimit at its rate; breaker open)",
            "; ".join(
                f"{guarded[label]:.0f}"
                for label in (
                    "no rateLimit, breaker closed",
                    "rateLimit at the call rate (one worker)",
                    "breaker open (refused, no vendor call)",
                )
            ),
            "(figure)",
            "",
        ),
        ("`build/deployment.zip`", f"{zip_mb:.2f} MB", f"<= {ZIP_TARGET_MB:.0f} MB", verdict(zip_mb <= ZIP_TARGET_MB)),
        ("End to end, inbound to received webhook", f"{rate['events_per_second']} events/s", "(figure)", ""),
        (
            "Live: events stream handler's added time per event with no socket open (cached; the one Query)",
            f"{pushed['noSocketCachedMs']} ms; {pushed['noSocketFirstMs']} ms",
            "near zero (<= 0.05 ms)",
            verdict(pushed["noSocketCachedMs"] <= 0.05),
        ),
        (
            "Live: $ per million frames; per million connection-minutes (webhook: 1 inbound -> 1 subscriber, tiny)",
            f"${pushed['dollarsPerMillionFrames']}; ${pushed['dollarsPerMillionConnectionMinutes']}"
            f" (webhook ${priced['scenarios']['inbound_1_sub_tiny']} per million events)",
            "(figure)",
            "",
        ),
        (
            "Guarded JSON reader / `json.loads` (8 KB; 83 KB GitHub push)",
            "; ".join(reader.find(rf"^\s*{size} KB .*\(x([0-9.]+)\)$").group(1) for size in ("8.3", "82.8")),
            "(figure)",
            "",
        ),
    ]
    runs = [
        *(cold, calls, inbound, dispatch, ordered, protection),
        *([packaged] if packaged else []),
        *(throughput, reader, live),  # bench.cost's figures and command are its section's
    ]
    write_page(rows, per_request, runs, zip_mb, cost_page.section(priced))
    print(f"wrote {PAGE.relative_to(ROOT)}")
    return 0


def rewrite_cost_section(priced: dict[str, Any]) -> None:
    """Replace the page's "Cost per event" section (up to the next ``## ``) with one from ``priced``."""
    lines = PAGE.read_text().splitlines()
    start = lines.index("## Cost per event")
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("## "))
    PAGE.write_text("\n".join([*lines[:start], *cost_page.section(priced), *lines[end:]]) + "\n")


def write_page(
    rows: list[tuple[str, str, str, str]],
    per_request: dict[str, Any],
    runs: list[Ran],
    zip_mb: float,
    cost_section: list[str],
) -> None:
    lines = [
        "# Performance",
        "",
        "Written by `make bench` (`python -m bench.run_all`); do not edit by hand, run it again.",
        "",
        f"- Date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Machine: {machine()}",
        "- AWS: moto, in memory, in process (the local runtime for the end-to-end figure); the call counts hold",
        "  for AWS, the times are this machine's.",
        "",
        "## Summary",
        "",
        "| Figure | Measured | Target | |",
        "|---|---|---|---|",
        *(f"| {name} | {value} | {target} | {ok} |" for name, value, target, ok in rows),
        "",
        "## AWS calls per request",
        "",
        "One warm request per endpoint, counted with botocore `before-call` hooks on the clients from",
        "`chalicelib.core.aws` (`python -m bench.api_calls`). With rate limits on, a container adds its counts",
        "to the rate-limits table at most once a second per tenant or connection (docs/rate-limits.md), so a",
        "warm request within that second adds no call (the first of a window adds one `UpdateItem`, the tenant's",
        "and the API key's counters together). An API key costs two reads",
        "(the `byKeyHash` index, then a consistent read of the key item, so a revocation applies at once).",
        "",
        "| Request | Limits off | Limits on |",
        "|---|---|---|",
        *(f"| `{label}` | {counts['off']} | {counts['on']} |" for label, counts in per_request.items()),
        "",
        *COLD_START_RECORD.read_text().splitlines(),
        "",
        *cost_section,
        "## How each figure was measured",
        "",
        f"`deployment.zip`: {zip_mb:.2f} MB, from `make package` (`build/deployment.zip`).",
        "",
    ]
    for ran in runs:
        lines += [f"### `{ran.command.replace(sys.executable, 'python')}`", "", "```", ran.output, "```", ""]
    PAGE.write_text("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
