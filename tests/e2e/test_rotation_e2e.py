"""Rotation over the local runtime: the API triggers it, the runtime invokes the four steps as Secrets Manager
would, the verification run completes against the fake vendor, and the next run uses the new value."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import LocalRuntime
from tests.support.fake_vendor import FakeVendor, serve_vendor
from tests.support.waiting import poll

OLD, NEW = "old-e2e-token", "new-e2e-token"


@pytest.fixture
def vendor() -> Iterator[FakeVendor]:
    with serve_vendor() as fake:
        fake.expect_bearer(OLD)
        yield fake


def test_rotated_credential_is_verified_then_used_by_the_next_run(
    local_runtime: LocalRuntime, vendor: FakeVendor
) -> None:
    token = local_runtime.token(f"tenant-{secrets.token_hex(4)}")
    created = local_runtime.request(
        "POST",
        "/integrations/connections",
        token=token,
        json_body={
            "providerId": "prov-generic-http",
            "displayName": "rotating",
            "credentials": {"token": OLD},
            "configuration": {"baseUrl": vendor.url},
        },
    )
    assert created.status == 201, created.body
    connection_id, credential_id = created.json["connectionId"], created.json["credentialId"]

    def run_to_end(path: str) -> dict[str, Any]:
        started = local_runtime.request(
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
                    (r := local_runtime.request("GET", location, token=token).json)["status"]
                    not in ("Pending", "Running")
                    and r
                ),
                f"run {path}",
            )
        )

    assert run_to_end("/before")["status"] == "Completed"  # the runtime now caches OLD

    vendor.expect_bearer(NEW)  # the vendor issues the new token; the old one stops working
    accepted = local_runtime.request(
        "POST",
        "/integrations/credentials/rotate",
        token=token,
        json_body={"credentialId": credential_id, "reason": "Compromised", "credentials": {"token": NEW}},
    )
    assert accepted.status == 202, accepted.body
    run_path = f"/integrations/runs/{accepted.json['verificationRunId']}"
    verification = poll(
        lambda: (r := local_runtime.request("GET", run_path, token=token).json)["status"] == "Completed" and r,
        "the verification run",
    )
    assert verification["result"]["verified"] is True
    detail = poll(
        lambda: (
            (d := local_runtime.request("GET", f"/integrations/credentials/{credential_id}", token=token).json)[
                "rotation"
            ]["status"]
            == "Rotated"
            and d
        ),
        "the promotion",
    )
    assert detail["lastRotatedAt"] and NEW not in str(detail)

    after = run_to_end("/after")
    assert after["status"] == "Completed", after
    last = [r for r in vendor.api_requests() if r.path == "/after"][-1]
    assert last.headers["authorization"] == f"Bearer {NEW}"
