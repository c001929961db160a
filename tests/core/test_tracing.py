"""X-Ray subsegments around vendor calls, webhook sends and destination writes, as the X-Ray daemon receives them.

Each case runs ``tests/core/traced_calls.py`` (real runs, a health check and deliveries against the fake
vendor and receiver, moto behind) in a fresh interpreter with Lambda's environment: ``LAMBDA_TASK_ROOT``
and a sampled ``_X_AMZN_TRACE_ID``. A UDP socket on 127.0.0.1 plays the daemon (``AWS_XRAY_DAEMON_ADDRESS``)
and the test reads the documents the SDK streamed to it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TRACE_ROOT = "1-6650f1a2-0123456789abcdef01234567"
TRACE_HEADER = f"Root={TRACE_ROOT};Parent=53995c3f42cd8ad8;Sampled=1"
SECRET = "vendor-token-1"


def run_traced(**overrides: str | None) -> tuple[list[dict[str, Any]], str]:
    """The scenarios in a Lambda-like process; the subsegment documents the daemon got, and the raw datagrams."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as daemon:
        daemon.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
        daemon.bind(("127.0.0.1", 0))
        env = os.environ | {
            "LAMBDA_TASK_ROOT": str(ROOT),
            "AWS_LAMBDA_FUNCTION_NAME": "integration-platform-test-RunOperations",
            "_X_AMZN_TRACE_ID": TRACE_HEADER,
            "AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{daemon.getsockname()[1]}",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        env = {k: v for k, v in (env | overrides).items() if v is not None}
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "-n",
            "0",
            "tests/core/traced_calls.py",
        ]
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=600)
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
        daemon.setblocking(False)
        datagrams: list[str] = []
        while True:
            try:
                datagrams.append(daemon.recv(65536).decode())
            except BlockingIOError:
                break
    documents = []
    for datagram in datagrams:
        header, _, body = datagram.partition("\n")
        assert json.loads(header) == {"format": "json", "version": 1}
        documents.append(json.loads(body))
    return documents, "\n".join(datagrams)


def test_vendor_calls_and_webhook_sends_are_subsegments_with_outcomes() -> None:
    documents, raw = run_traced()
    assert documents and {d["type"] for d in documents} == {"subsegment"}
    assert {d["trace_id"] for d in documents} == {TRACE_ROOT} and {d["namespace"] for d in documents} == {"remote"}
    vendor = [d for d in documents if d["annotations"]["call"] == "vendor"]
    webhooks = [d for d in documents if d["annotations"]["call"] == "webhook"]
    writes = [d for d in documents if d["annotations"]["call"] == "sqs"]
    assert len(vendor) + len(webhooks) + len(writes) == len(documents)

    assert {d["name"] for d in vendor} == {"github"} and {d["annotations"]["provider"] for d in vendor} == {"github"}
    calls = [
        (a["operation"], a["outcome"], a.get("status_code"), d.get("fault", False), d.get("error", False))
        for d in vendor
        for a in [d["annotations"]]
    ]
    assert sorted(calls, key=str) == sorted(
        [
            ("GetRepository", "succeeded", None, False, False),
            ("GetRepository", "failed", 500, True, False),
            ("GetRepository", "failed", None, True, False),  # the timeout: no answer at all
            ("health_check", "succeeded", 200, False, False),
        ],
        key=str,
    )
    assert all(d["metadata"]["default"]["connectionId"].startswith("conn") for d in vendor)
    answered = [d for d in vendor if d["annotations"].get("status_code") == 500]
    assert answered[0]["http"]["response"]["status"] == 500

    assert {d["name"] for d in webhooks} == {"webhook"}
    sends = {
        (d["annotations"]["outcome"], d["annotations"].get("status_code"), d.get("fault", False)) for d in webhooks
    }
    assert sends == {("succeeded", 200, False), ("failed", 500, True)}
    assert {d["metadata"]["default"]["eventType"] for d in webhooks} == {"TracedOnce", "TracedFailing"}
    # A destination's write is named by its type, with the same outcome annotations.
    [write] = writes
    assert write["name"] == "sqs" and write["annotations"]["outcome"] == "succeeded"
    assert write["metadata"]["default"]["eventType"] == "TracedWrite"

    # Low cardinality and no secrets: no tenant, no URL, no credential anywhere in what left the process.
    assert all(
        set(d["annotations"]) <= {"call", "provider", "operation", "outcome", "status_code", "attempt"}
        for d in documents
    )
    assert SECRET not in raw and "127.0.0.1" not in raw and "tenant" not in raw.lower()


def test_nothing_is_sent_when_tracing_is_off_and_the_calls_still_work() -> None:
    assert run_traced(POWERTOOLS_TRACE_DISABLED="true")[0] == []
    assert run_traced(LAMBDA_TASK_ROOT=None)[0] == []  # outside Lambda: tests, make run, chalice local


def test_an_sdk_that_raises_fails_no_run_and_no_delivery() -> None:
    """An address the SDK refuses makes it raise as the recorder is built; the scenarios pass all the same."""
    assert run_traced(AWS_XRAY_DAEMON_ADDRESS="not-an-address")[0] == []
