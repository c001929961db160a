"""Cold start: importing the app against the floor every Chalice + boto3 Lambda pays anyway.

Each sample is a fresh interpreter (a cold Lambda container), with the stage's
environment, timing only the import inside the process so interpreter start-up
is excluded from both figures. The target is a ratio of at most 1.3.

    .venv/bin/python -m bench.cold_start [--runs 7] [--importtime 15]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 1.3

APP = "import app"
FLOOR = "import boto3; boto3.client('sqs', region_name='us-east-1'); from chalice import Chalice"
TIMED = (
    "import time; w, c = time.perf_counter(), time.process_time(); {code}; "
    "print(time.perf_counter() - w, time.process_time() - c)"
)


def lambda_env(stage: str = "prod") -> dict[str, str]:
    """What a deployed function sees: the stage's variables from ``.chalice/config.json``, dummy credentials."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTHON", "PYDANTIC"))}
    env.update(config.get("environment_variables", {}))
    env.update(config["stages"][stage].get("environment_variables", {}))
    env.update(
        {
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
        }
    )
    return env


def sample(code: str) -> tuple[float, float]:
    """Wall and CPU milliseconds of one cold import; CPU time stays honest on a busy machine."""
    completed = subprocess.run(
        [sys.executable, "-c", TIMED.format(code=code)],
        cwd=ROOT,
        env=lambda_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    wall, cpu = completed.stdout.strip().splitlines()[-1].split()
    return float(wall) * 1000, float(cpu) * 1000


def medians_ms(code: str, runs: int) -> tuple[float, float]:
    sample(code)  # the first run compiles bytecode; a deployed package ships it compiled
    samples = [sample(code) for _ in range(runs)]
    return statistics.median(w for w, _ in samples), statistics.median(c for _, c in samples)


def heaviest_imports(top: int) -> list[tuple[int, str]]:
    """``python -X importtime`` for ``import app``: the modules with the largest cumulative time (us)."""
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", APP],
        cwd=ROOT,
        env=lambda_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    rows = []
    for line in completed.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = (part.strip() for part in line.split("|"))
        rows.append((int(cumulative), name))
    return sorted(rows, reverse=True)[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--importtime", type=int, default=0, metavar="N", help="also list the N heaviest imports")
    args = parser.parse_args()
    floor_wall, floor_cpu = medians_ms(FLOOR, args.runs)
    app_wall, app_cpu = medians_ms(APP, args.runs)
    print(f"medians of {args.runs} fresh interpreters        wall ms    cpu ms")
    print(f"floor (boto3 + sqs client + chalice)  {floor_wall:9.1f} {floor_cpu:9.1f}")
    print(f"import app                            {app_wall:9.1f} {app_cpu:9.1f}")
    for label, ratio in (("wall", app_wall / floor_wall), ("cpu", app_cpu / floor_cpu)):
        verdict = "OK" if ratio <= TARGET_RATIO else "OVER"
        print(f"ratio ({label}): {ratio:.2f} (target <= {TARGET_RATIO}) -> {verdict}")
    if args.importtime:
        print("heaviest imports under `import app` (cumulative):")
        for micros, name in heaviest_imports(args.importtime):
            print(f"  {micros / 1000:7.1f} ms  {name}")


if __name__ == "__main__":
    main()
