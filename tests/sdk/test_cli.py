"""``ipctl`` as a shell runs it (``python -m integration_platform.cli``): output, ``--json`` and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from integration_platform import cli

from tests.e2e.conftest import LocalRuntime, free_port
from tests.sdk.conftest import VENDOR_TOKEN
from tests.support.fake_vendor import FakeVendor
from tests.support.receiver import Receiver
from tests.support.waiting import WAIT_SECONDS, poll

PR = {"owner": "octo", "repo": "hello", "title": "Add feature", "head": "feature", "base": "main"}


def ipctl(
    runtime: LocalRuntime, token: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environ = {**runtime.env, "IPCTL_URL": runtime.base_url, "IPCTL_TOKEN": token, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "integration_platform.cli", *args],
        env=environ,
        capture_output=True,
        text=True,
        timeout=WAIT_SECONDS,
    )


def _json(done: subprocess.CompletedProcess[str]) -> Any:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _create(local_runtime: LocalRuntime, token: str, vendor: FakeVendor, name: str = "cli") -> dict[str, Any]:
    created: dict[str, Any] = _json(
        ipctl(
            local_runtime,
            token,
            "connections",
            "create",
            "--json",
            "--provider",
            "prov-github",
            "--name",
            name,
            "--credentials",
            json.dumps({"token": VENDOR_TOKEN}),
            "--configuration",
            json.dumps({"baseUrl": vendor.url}),
        )
    )
    return created


def test_create_list_and_get_connections(local_runtime: LocalRuntime, token: str, vendor: FakeVendor) -> None:
    ids = {_create(local_runtime, token, vendor, f"cli-{i}")["connectionId"] for i in range(3)}
    listed = _json(ipctl(local_runtime, token, "connections", "list", "--page-size", "2", "--json"))
    assert {item["connectionId"] for item in listed} == ids
    table = ipctl(local_runtime, token, "connections", "list")
    assert table.returncode == 0
    header, *rows = table.stdout.splitlines()
    assert header.split()[:3] == ["connectionId", "providerId", "displayName"] and len(rows) == 3
    one = ipctl(local_runtime, token, "connections", "get", ids.pop())
    assert one.returncode == 0 and "prov-github" in one.stdout


def test_runs_start_wait_shows_progress_and_ends_completed(
    local_runtime: LocalRuntime, token: str, vendor: FakeVendor
) -> None:
    connection = _create(local_runtime, token, vendor)["connectionId"]
    done = ipctl(
        local_runtime,
        token,
        "runs",
        "start",
        connection,
        "OpenPullRequest",
        "--params",
        json.dumps(PR),
        "--wait",
        "--interval",
        "0.2",
        "--json",
    )
    run = _json(done)
    assert run["status"] == "Completed"
    assert f"{run['runId']}  Completed" in done.stderr


def test_a_run_that_fails_exits_1(local_runtime: LocalRuntime, token: str, vendor: FakeVendor) -> None:
    connection = _create(local_runtime, token, vendor)["connectionId"]
    vendor.expect_bearer("another-token")
    done = ipctl(
        local_runtime,
        token,
        "runs",
        "start",
        connection,
        "OpenPullRequest",
        "--params",
        json.dumps(PR),
        "--wait",
        "--interval",
        "0.2",
        "--quiet",
    )
    assert done.returncode == cli.EXIT_RUN_FAILED, done.stdout + done.stderr
    assert "Failed" in done.stdout and done.stderr == ""


def test_subscriptions_events_attempts_and_api_keys(
    local_runtime: LocalRuntime, token: str, receiver: Receiver
) -> None:
    created = _json(
        ipctl(
            local_runtime,
            token,
            "subscriptions",
            "create",
            "--endpoint",
            receiver.url,
            "--event-type",
            "OrderShipped",
            "--json",
        )
    )
    assert created["signingSecret"].startswith("whsec_")
    receiver.trust(created["signingSecret"])
    published = _json(
        ipctl(local_runtime, token, "events", "publish", "--type", "OrderShipped", "--data", '{"order": 1}', "--json")
    )
    poll(lambda: receiver.accepted(), "the first delivery")
    queued = _json(ipctl(local_runtime, token, "events", "redeliver", published["eventId"], "--json"))
    assert queued["subscriptionIds"] == [created["subscriptionId"]]
    poll(lambda: len(receiver.accepted()) >= 2, "the redelivery")
    attempts = _json(ipctl(local_runtime, token, "attempts", "list", created["subscriptionId"], "--json"))
    assert {item["eventId"] for item in attempts} == {published["eventId"]}
    assert receiver.verification_errors == []
    key = _json(
        ipctl(
            local_runtime,
            token,
            "api-keys",
            "create",
            "--name",
            "ci",
            "--scope",
            "integration.providers.read",
            "--json",
        )
    )
    providers = ipctl(
        local_runtime, "", "providers", "list", "--limit", "2", "--json", env={"IPCTL_API_KEY": key["apiKey"]}
    )
    assert len(_json(providers)) == 2
    assert ipctl(local_runtime, token, "api-keys", "revoke", key["apiKeyId"]).returncode == 0


def test_a_subscription_on_the_platform_bus_from_the_command_line(local_runtime: LocalRuntime, token: str) -> None:
    bus = _json(ipctl(local_runtime, token, "events", "bus", "--json"))
    arn = bus["eventBusArn"]
    shown = ipctl(local_runtime, token, "events", "bus")
    assert shown.returncode == 0 and ["eventBusArn", arn] in [line.split() for line in shown.stdout.splitlines()]
    created = _json(
        ipctl(local_runtime, token, "subscriptions", "create", "--eventbridge", arn, "--event-type", "X", "--json")
    )
    assert created["destination"] == {"type": "eventbridge", "eventBusArn": arn}
    listed = ipctl(local_runtime, token, "subscriptions", "list")
    assert listed.returncode == 0 and listed.stdout.splitlines()[0].split() == [
        "subscriptionId",
        "status",
        "eventTypes",
        "destination",
        "createdAt",
    ]
    row = next(line for line in listed.stdout.splitlines() if created["subscriptionId"] in line)
    assert f"eventbridge {arn}" in row
    got = ipctl(local_runtime, token, "subscriptions", "get", created["subscriptionId"])
    assert any(line.split() == ["destination", "eventbridge", arn] for line in got.stdout.splitlines())


@pytest.mark.parametrize(
    "where",
    [
        pytest.param([], id="no destination"),
        pytest.param(
            ["--endpoint", "https://example.com/h", "--sqs", "arn:aws:sqs:us-east-1:111122223333:q"], id="two"
        ),
    ],
)
def test_subscriptions_create_takes_exactly_one_destination(
    local_runtime: LocalRuntime, token: str, where: list[str]
) -> None:
    done = ipctl(local_runtime, token, "subscriptions", "create", "--event-type", "X", *where)
    assert done.returncode == cli.EXIT_USAGE and "--endpoint" in done.stderr


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["connections", "get", "conn-missing"], cli.EXIT_NOT_FOUND),
        (["events", "redeliver", "evt-missing"], cli.EXIT_NOT_FOUND),
        (
            ["connections", "create", "--provider", "prov-github", "--name", "x", "--credentials", "[1]"],
            cli.EXIT_CLIENT_ERROR,
        ),
        (["connections", "list", "--page-size", "0"], cli.EXIT_CLIENT_ERROR),
        (["runs", "start"], cli.EXIT_USAGE),
        (["connections", "create", "--credentials", "{not json"], cli.EXIT_USAGE),
    ],
)
def test_exit_codes(local_runtime: LocalRuntime, token: str, args: list[str], code: int) -> None:
    done = ipctl(local_runtime, token, *args)
    assert done.returncode == code, done.stderr


def test_errors_name_code_and_trace_on_stderr(local_runtime: LocalRuntime, token: str) -> None:
    done = ipctl(local_runtime, token, "runs", "get", "run-missing")
    assert done.returncode == cli.EXIT_NOT_FOUND
    assert "RESOURCE_NOT_FOUND" in done.stderr and "traceId trace-" in done.stderr and done.stdout == ""


def test_a_reader_that_stops_early_gets_no_traceback(local_runtime: LocalRuntime, token: str) -> None:
    """``ipctl providers list | head -1``: the reader is gone before ipctl writes (the pipe's read end is closed)."""
    environ = {**local_runtime.env, "IPCTL_URL": local_runtime.base_url, "IPCTL_TOKEN": token}
    process = subprocess.Popen(
        [sys.executable, "-m", "integration_platform.cli", "providers", "list"],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    poll(lambda: process.poll() is not None, "ipctl to exit")
    errors = process.stderr.read()
    process.stderr.close()
    assert errors == "" and process.returncode == cli.EXIT_BROKEN_PIPE


def test_a_bad_token_exits_3(local_runtime: LocalRuntime) -> None:
    assert ipctl(local_runtime, "garbage", "providers", "list").returncode == cli.EXIT_AUTH


def test_an_unreachable_platform_exits_6(local_runtime: LocalRuntime, token: str) -> None:
    done = ipctl(local_runtime, token, "--url", f"http://127.0.0.1:{free_port()}", "runs", "get", "run-1")
    assert done.returncode == cli.EXIT_UNAVAILABLE


def test_the_console_script_is_installed() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import shutil, sys; print(shutil.which('ipctl', path=sys.argv[1]))",
            str(__import__("pathlib").Path(sys.executable).parent),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip().endswith("ipctl")


def test_without_ipctl_url_the_local_runtime_on_port_is_used(local_runtime: LocalRuntime, token: str) -> None:
    assert local_runtime.env["PORT"] == str(local_runtime.port)
    done = ipctl(local_runtime, token, "providers", "get", "prov-github", "--json", env={"IPCTL_URL": ""})
    assert _json(done)["providerId"] == "prov-github"
