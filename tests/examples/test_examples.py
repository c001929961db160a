"""``examples/`` runs: the seven 004 curl scripts and the walk-through, against the local runtime.

Each script exits non-zero on any status it does not expect (``call`` in
``examples/curl/_common.sh``), so a script that exits 0 got exactly the statuses
it expects; the tests check the answers too, and that a surprise does fail.
The GitHub Actions workflow cannot run here, so it is parsed and its deploy
steps checked.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import venv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.conftest import LocalRuntime
from tests.support.fake_vendor import FakeVendor, serve_vendor
from tests.support.timestamps import named_times, off_form
from tests.support.waiting import WAIT_SECONDS

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CURL = EXAMPLES / "curl"
SCRIPTS = sorted(p.name for p in CURL.glob("0*.sh"))
GITHUB_TOKEN = "ghp_examples00000000000000000000000000"

# script -> (the status it must report, fields its answer must hold)
EXPECTED: dict[str, tuple[int, dict[str, Any]]] = {
    "01-establish-connection.sh": (201, {"status": "Active", "providerId": "prov-github"}),
    "02-retrieve-connection.sh": (200, {"status": "Active", "providerId": "prov-github"}),
    "03-register-provider.sh": (201, {"status": "Registered"}),
    "04-create-subscription.sh": (201, {"status": "Active", "eventType": "DeploymentPromoted"}),
    "05-ingest-delivery.sh": (202, {"status": "Accepted", "normalizedEventType": "PullRequestMerged"}),
    "06-retrieve-run.sh": (200, {"status": "Completed", "operation": "OpenPullRequest"}),
    "07-rotate-credential.sh": (202, {"status": "Rotating"}),
}


@pytest.fixture(scope="module")
def vendor() -> Iterator[FakeVendor]:
    with serve_vendor() as fake:
        fake.expect_bearer(GITHUB_TOKEN)
        yield fake


def script_env(runtime: LocalRuntime, **extra: str) -> dict[str, str]:
    """What a user exports: the port, a token, and the interpreter that reads answers."""
    tenant = f"tenant-{secrets.token_hex(4)}"
    return {
        **runtime.env,
        "PORT": str(runtime.port),
        "TENANT": tenant,
        "TOKEN": runtime.token(tenant),
        "PYTHON": sys.executable,
        **extra,
    }


def run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=WAIT_SECONDS, check=False)


def test_every_seed_example_has_a_script() -> None:
    assert sorted(EXPECTED) == SCRIPTS


@pytest.mark.parametrize("script", SCRIPTS)
def test_each_script_is_strict_bash_and_explains_its_deviations(script: str) -> None:
    text = (CURL / script).read_text()
    assert text.startswith("#!/usr/bin/env bash\n") and "set -euo pipefail" in text
    assert "# Deviations from the seed:" in text
    assert os.access(CURL / script, os.X_OK)
    assert subprocess.run(["bash", "-n", str(CURL / script)], check=False).returncode == 0


@pytest.mark.parametrize("script", SCRIPTS)
def test_the_curl_script_runs(local_runtime: LocalRuntime, vendor: FakeVendor, script: str) -> None:
    env = script_env(local_runtime, GITHUB_BASE_URL=vendor.url, GITHUB_TOKEN=GITHUB_TOKEN)
    done = run(["bash", str(CURL / script)], env)
    assert done.returncode == 0, f"{script} exited {done.returncode}:\n{done.stderr}\n{done.stdout}"
    status, fields = EXPECTED[script]
    assert done.stderr.splitlines()[-1].endswith(f"-> {status}"), done.stderr
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert fields.items() <= answer.items(), answer
    assert off_form(named_times(answer)) == []


def test_a_script_fails_on_an_unexpected_status(local_runtime: LocalRuntime) -> None:
    env = script_env(local_runtime, CONNECTION_ID="conn-000000000000")
    done = run(["bash", str(CURL / "02-retrieve-connection.sh")], env)
    assert done.returncode == 1
    assert "expected 200, got 404" in done.stderr


def test_the_scripts_default_their_url_to_the_port(local_runtime: LocalRuntime) -> None:
    env = script_env(local_runtime)
    env.pop("BASE_URL", None)
    env["PORT"] = str(local_runtime.port)
    assert run(["bash", str(CURL / "03-register-provider.sh")], env).returncode == 0
    env["PORT"] = "1"  # nothing listens there: curl fails, so does the script
    assert run(["bash", str(CURL / "03-register-provider.sh")], env).returncode != 0


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A Python with the standard library only, as a fresh clone's ``python3``: no chalice, no boto3."""
    home = tmp_path_factory.mktemp("bare")
    venv.create(home, with_pip=False, symlinks=True)
    python = str(home / "bin" / "python")
    assert subprocess.run([python, "-c", "import chalice"], capture_output=True, check=False).returncode != 0
    return python


def test_the_walkthrough_runs_end_to_end(local_runtime: LocalRuntime, bare_python: str) -> None:
    """As documented: ``python examples/walkthrough.py`` with ``make run`` going, no TOKEN, no PYTHON."""
    env = {k: v for k, v in script_env(local_runtime).items() if k not in {"TOKEN", "PYTHON"}}
    done = run([bare_python, str(EXAMPLES / "walkthrough.py")], env)
    assert done.returncode == 0, f"walk-through exited {done.returncode}:\n{done.stderr}\n{done.stdout}"
    assert "walk-through complete" in done.stdout
    assert "received PullRequestMerged" in done.stdout and "received RunCompleted" in done.stdout


def test_the_walkthrough_fails_when_the_platform_is_not_there(local_runtime: LocalRuntime, bare_python: str) -> None:
    env = script_env(local_runtime, BASE_URL="http://127.0.0.1:1", WAIT_SECONDS="1")
    done = run([bare_python, str(EXAMPLES / "walkthrough.py")], env)
    assert done.returncode == 1 and "walk-through failed" in done.stderr


def test_the_deploy_workflow_packages_and_deploys_with_oidc() -> None:
    workflow = yaml.safe_load((EXAMPLES / "github-actions" / "deploy.yml").read_text())
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert "push" in triggers and "workflow_dispatch" in triggers
    assert workflow["permissions"]["id-token"] == "write"
    steps = workflow["jobs"]["deploy"]["steps"]
    scripts = "\n".join(step.get("run", "") for step in steps)
    [credentials] = [s for s in steps if s.get("uses", "").startswith("aws-actions/configure-aws-credentials@")]
    assert "role-to-assume" in credentials["with"] and "aws-access-key-id" not in credentials["with"]
    commands = ("make package", "aws cloudformation package", "aws cloudformation deploy")
    order = [scripts.index(command) for command in commands]
    assert order == sorted(order)
    assert steps.index(credentials) > next(i for i, s in enumerate(steps) if "make package" in s.get("run", ""))
    assert "CAPABILITY_IAM CAPABILITY_AUTO_EXPAND" in scripts
    assert "JwtIssuer=" in scripts and "JwksUrl=" in scripts


def test_the_ingest_script_posts_to_the_ingest_url(local_runtime: LocalRuntime) -> None:
    """05 is what a vendor does: it goes to INGEST_URL (docs/deploy.md "Two fronts"), which defaults to BASE_URL."""
    env = script_env(local_runtime, INGEST_URL="http://127.0.0.1:1")  # nothing listens there
    done = run(["bash", str(CURL / "05-ingest-delivery.sh")], env)
    assert done.returncode != 0 and ">> POST /webhooks/deliveries" not in done.stderr
