"""The local runtime as a user runs it: ``python -m infra.local.runtime`` in a subprocess.

One runtime serves the whole e2e session over real HTTP; ``start_runtime``
gives a test its own when it must stop it. Tokens come from the token command,
signed with a key kept in the test's temporary directory.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.api_client import Reply
from tests.support.waiting import WAIT_SECONDS, poll

PROJECT_DIR = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class LocalRuntime:
    process: subprocess.Popen[bytes]
    port: int
    moto_port: int
    log_path: Path
    env: dict[str, str]
    ready_seconds: float = 0.0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def moto_url(self) -> str:
        return f"http://127.0.0.1:{self.moto_port}"

    @property
    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def output_tail(self, lines: int = 60) -> str:
        """The runtime's last log lines, for a wait that ran out."""
        return "\n".join(self.output.splitlines()[-lines:])

    def token(self, tenant: str, scopes: str = "") -> str:
        """A token from ``python -m infra.local.token``, exactly as ``make token`` prints it."""
        done = subprocess.run(
            [sys.executable, "-m", "infra.local.token", "--tenant", tenant, "--scopes", scopes],
            cwd=PROJECT_DIR,
            env=self.env,
            capture_output=True,
            check=True,
            timeout=WAIT_SECONDS,
        )
        return done.stdout.decode().strip().splitlines()[-1]

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        all_headers = {"Content-Type": "application/json"} if json_body is not None else {}
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        all_headers.update(headers or {})
        data = json.dumps(json_body).encode() if json_body is not None else None
        return self.send(method, path, data, all_headers)

    def send(self, method: str, path: str, data: bytes | None, headers: dict[str, str]) -> Reply:
        """One request with its body as given (a vendor's signed bytes); the reply whatever its status."""
        request = urllib.request.Request(self.base_url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=WAIT_SECONDS) as response:
                return Reply(response.status, dict(response.headers.items()), response.read())
        except urllib.error.HTTPError as error:
            return Reply(error.code, dict(error.headers.items()), error.read())

    def stop(self, signum: int = signal.SIGINT) -> int:
        """Signal the runtime and wait for it to exit by itself (killed, and the test failed, if it never does)."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            poll(lambda: self.process.poll() is not None, "the runtime to stop", explain=self.output_tail)
        except pytest.fail.Exception:
            self.process.kill()
            self.process.wait()
            raise
        return int(self.process.returncode)

    def sqs_handlers(self) -> dict[str, str]:
        """Queue name -> handler, from the runtime's startup lines."""
        return dict(re.findall(r"^  SQS (\S+) -> (\S+) ", self.output, flags=re.MULTILINE))


def runtime_env(workdir: Path, **extra: str) -> dict[str, str]:
    """The environment ``make run`` gets: ours, free ports, a key in ``workdir``, and ``extra``."""
    return {
        **os.environ,
        "PORT": str(free_port()),
        "MOTO_PORT": str(free_port()),
        "DEV_ISSUER_KEY": str(workdir / "dev-issuer.pem"),
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def start_runtime(workdir: Path, **extra_env: str) -> LocalRuntime:
    workdir.mkdir(parents=True, exist_ok=True)
    env = runtime_env(workdir, **extra_env)
    port, moto_port = int(env["PORT"]), int(env["MOTO_PORT"])
    log_path = workdir / "runtime.log"
    started = time.monotonic()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "infra.local.runtime"],
            cwd=PROJECT_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    runtime = LocalRuntime(process, port, moto_port, log_path, env)

    def ready() -> bool:
        if process.poll() is not None:
            pytest.fail(f"the runtime exited with {process.returncode}:\n{runtime.output}")
        return "Ready in" in runtime.output

    try:
        poll(ready, "the runtime to be ready", explain=lambda: runtime.output, interval=0.05)
    except pytest.fail.Exception:
        if process.poll() is None:
            runtime.stop(signal.SIGKILL)
        raise
    runtime.ready_seconds = time.monotonic() - started
    return runtime


@pytest.fixture(scope="session")
def local_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRuntime]:
    runtime = start_runtime(tmp_path_factory.mktemp("runtime"))
    yield runtime
    runtime.stop()


@pytest.fixture(scope="session")
def base_url(local_runtime: LocalRuntime) -> str:
    return local_runtime.base_url
