"""``make aws`` in one process, plain ``chalice local --stage local --port $PORT`` in another, as a user runs them.

Both read ``PORT`` and ``MOTO_PORT`` (free ports here) and nothing else ties them
together: the API process finds moto and the dev issuer's keys through the
local stage's settings. Over HTTP: a connection, a GitHub delivery that reaches
a subscribed webhook receiver, a run against a fake vendor, and a rotation that
the embedded AWS carries out (the rotation function runs in the ``make aws``
process, called by moto's ``RotateSecret``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import signal
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import PROJECT_DIR, LocalRuntime, free_port
from tests.support.fake_vendor import FakeVendor, serve_vendor
from tests.support.receiver import serve_receiver
from tests.support.waiting import poll

CHALICE = Path(sys.executable).with_name("chalice")
OLD, NEW = "old-local-token", "new-local-token"
TEST_SETTINGS = {"STAGE", "RESOURCE_PREFIX", "ALLOW_INSECURE_URLS", "ROTATION_INVOKER", "JWKS_URL"}


def _spawn(command: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("wb") as log:
        # A session of its own, so stopping it stops whatever it started.
        return subprocess.Popen(
            command, cwd=PROJECT_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _wait_until(ready: Any, process: subprocess.Popen[bytes], log_path: Path, what: str) -> None:
    def up() -> bool:
        if process.poll() is not None:
            pytest.fail(f"{what} exited with {process.returncode}:\n{log_path.read_text(errors='replace')}")
        return bool(ready())

    poll(up, f"{what} to be ready", explain=lambda: log_path.read_text(errors="replace"), interval=0.1)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def chalice_local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRuntime]:
    workdir = tmp_path_factory.mktemp("chalice-local")
    port, moto_port = free_port(), free_port()
    env = {  # a user's shell: none of what tests/conftest.py sets for the in-process tests
        **{k: v for k, v in os.environ.items() if k not in TEST_SETTINGS and not k.startswith(("AWS_", "JWT"))},
        "PORT": str(port),
        "MOTO_PORT": str(moto_port),
        "DEV_ISSUER_KEY": str(workdir / "dev-issuer.pem"),
        "PYTHONUNBUFFERED": "1",
    }
    aws_log, api_log = workdir / "aws.log", workdir / "chalice-local.log"
    aws = _spawn([sys.executable, "-m", "infra.local.embedded"], env, aws_log)
    api: subprocess.Popen[bytes] | None = None
    try:
        _wait_until(lambda: "Ready in" in aws_log.read_text(errors="replace"), aws, aws_log, "make aws")
        # Without its reloader: that restarts the server on any file change under the project, and other
        # tests write there (screenshots, `make package`'s build/), which reset this test's requests.
        command = [str(CHALICE), "local", "--stage", "local", "--port", str(port), "--no-autoreload"]
        api = _spawn(command, env, api_log)
        _wait_until(lambda: _answers(f"http://127.0.0.1:{port}/health"), api, api_log, "chalice local")
        yield LocalRuntime(api, port, moto_port, api_log, env)
    finally:
        if api is not None:
            _stop(api)
        _stop(aws)


@pytest.fixture
def vendor() -> Iterator[FakeVendor]:
    with serve_vendor() as fake:
        fake.expect_bearer(OLD)
        yield fake


def test_health_is_served_against_the_embedded_aws(chalice_local: LocalRuntime) -> None:
    health = chalice_local.request("GET", "/health")
    assert health.status == 200, health.body
    assert {check["status"] for check in health.json["checks"]} == {"Healthy"}


def test_inbound_delivery_reaches_an_outbound_webhook_receiver(chalice_local: LocalRuntime) -> None:
    token = chalice_local.token(f"tenant-{secrets.token_hex(4)}")
    connection = chalice_local.request(
        "POST",
        "/integrations/connections",
        token=token,
        json_body={"providerId": "prov-github", "displayName": "GitHub", "credentials": {"token": "ghp-local"}},
    )
    assert connection.status == 201, connection.body
    assert connection.json["webhookUrl"].startswith(chalice_local.base_url)  # PUBLIC_BASE_URL follows PORT
    with serve_receiver() as receiver:
        subscription = chalice_local.request(
            "POST",
            "/webhooks/subscriptions",
            token=token,
            json_body={"eventType": "PullRequestMerged", "endpointUrl": receiver.url},
        )
        assert subscription.status == 201, subscription.body
        receiver.trust(subscription.json["signingSecret"])
        body = json.dumps({"action": "closed", "number": 7, "pull_request": {"merged": True}}).encode()
        signature = "sha256=" + hmac.new(connection.json["webhookSecret"].encode(), body, hashlib.sha256).hexdigest()
        delivered = chalice_local.send(
            "POST",
            f"/webhooks/deliveries/{connection.json['connectionId']}",
            body,
            {
                "Content-Type": "application/json",
                "X-GitHub-Event": "pull_request",
                "X-GitHub-Delivery": str(uuid.uuid4()),
                "X-Hub-Signature-256": signature,
            },
        )
        assert delivered.status == 202, delivered.body
        [message] = poll(receiver.accepted, "the outbound webhook")
    assert receiver.verification_errors == []
    assert message.body["type"] == "PullRequestMerged"


def test_a_run_and_a_rotation_complete(chalice_local: LocalRuntime, vendor: FakeVendor) -> None:
    token = chalice_local.token(f"tenant-{secrets.token_hex(4)}")
    created = chalice_local.request(
        "POST",
        "/integrations/connections",
        token=token,
        json_body={
            "providerId": "prov-generic-http",
            "displayName": "vendor",
            "credentials": {"token": OLD},
            "configuration": {"baseUrl": vendor.url},
        },
    )
    assert created.status == 201, created.body
    connection_id, credential_id = created.json["connectionId"], created.json["credentialId"]

    def run_to_end(path: str) -> dict[str, Any]:
        started = chalice_local.request(
            "POST",
            f"/integrations/connections/{connection_id}/operations/Request",
            token=token,
            json_body={"parameters": {"path": path}},
        )
        assert started.status == 202, started.body
        location = started.header("Location") or ""
        return dict(
            poll(
                lambda: (
                    (r := chalice_local.request("GET", location, token=token).json)["status"]
                    not in ("Pending", "Running")
                    and r
                ),
                f"run {path}",
            )
        )

    assert run_to_end("/before")["status"] == "Completed"
    vendor.expect_bearer(NEW)
    accepted = chalice_local.request(
        "POST",
        "/integrations/credentials/rotate",
        token=token,
        json_body={"credentialId": credential_id, "reason": "Compromised", "credentials": {"token": NEW}},
    )
    assert accepted.status == 202, accepted.body
    detail = poll(
        lambda: (
            (d := chalice_local.request("GET", f"/integrations/credentials/{credential_id}", token=token).json)[
                "rotation"
            ]["status"]
            in ("Rotated", "Failed")
            and d
        ),
        "the rotation",
    )
    assert detail["rotation"]["status"] == "Rotated", detail
    current = [v for v in detail["versions"] if "AWSCURRENT" in v["stages"]]
    assert [v["versionId"] for v in current] == [accepted.json["newVersionRef"].rsplit("=", 1)[-1]]
    after = run_to_end("/after")
    assert after["status"] == "Completed", after
    assert [r for r in vendor.api_requests() if r.path == "/after"][-1].headers["authorization"] == f"Bearer {NEW}"
