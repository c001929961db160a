"""``AWS_FAULTS=... make run``: the switch reaches the runtime's clients, and a bad value stops the start."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.e2e.conftest import PROJECT_DIR, runtime_env, start_runtime
from tests.support.waiting import WAIT_SECONDS


def test_make_run_injects_the_faults_and_still_answers(tmp_path: Path) -> None:
    spec = "dynamodb=0.3,sqs=0.3,secretsmanager=0.3"
    runtime = start_runtime(tmp_path, AWS_FAULTS=spec, AWS_FAULTS_SEED="7")
    try:
        assert f"injecting AWS faults: AWS_FAULTS={spec} AWS_FAULTS_SEED=7" in runtime.output
        statuses = {runtime.request("GET", "/health").status for _ in range(20)}
        assert statuses <= {200, 503}, "botocore retries most faults away; the rest are a 503, never a 500"
        assert "injected AWS fault" in runtime.output
    finally:
        assert runtime.stop() == 0, runtime.output


def test_a_bad_switch_stops_make_run_with_its_message(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "infra.local.runtime"],
        cwd=PROJECT_DIR,
        env=runtime_env(tmp_path, AWS_FAULTS="dynamodb=lots"),
        capture_output=True,
        timeout=WAIT_SECONDS,
    )
    assert done.returncode == 1
    assert "Cannot start: AWS_FAULTS: the fraction for 'dynamodb' must be a number from 0 to 1" in done.stderr.decode()
