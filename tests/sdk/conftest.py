"""The SDK and CLI run against the local runtime the e2e tests start (``python -m infra.local.runtime``)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from integration_platform import Client, RetryPolicy, models

from tests.e2e.conftest import LocalRuntime, local_runtime
from tests.support.fake_vendor import FakeVendor, serve_vendor
from tests.support.receiver import Receiver, serve_receiver

__all__ = ["local_runtime"]
VENDOR_TOKEN = "ghp_sdk00000000000000000000000000000000"


@pytest.fixture
def tenant() -> str:
    return f"tenant-sdk-{secrets.token_hex(4)}"


@pytest.fixture
def token(local_runtime: LocalRuntime, tenant: str) -> str:
    return local_runtime.token(tenant)


@pytest.fixture
def client(local_runtime: LocalRuntime, token: str) -> Client:
    return Client(local_runtime.base_url, token=token, retry=RetryPolicy(attempts=3, base_delay=0.1))


@pytest.fixture
def vendor() -> Iterator[FakeVendor]:
    with serve_vendor() as fake:
        fake.expect_bearer(VENDOR_TOKEN)
        yield fake


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serve_receiver() as fake:
        yield fake


def github_connection(vendor: FakeVendor, name: str = "GitHub via the fake vendor") -> models.CreateConnectionRequest:
    """A create-connection body for the built-in GitHub provider pointed at the fake vendor."""
    return {
        "providerId": "prov-github",
        "displayName": name,
        "credentials": {"token": VENDOR_TOKEN},
        "configuration": {"baseUrl": vendor.url},
    }
