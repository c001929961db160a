"""What the worker tests share: a fake vendor that wants the test token, the real SQS handler, run lookup."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.runs import store
from chalicelib.runs.models import Run
from tests.support.fake_vendor import FakeVendor, serve_vendor

TOKEN = "vendor-token-1"
PR = {"owner": "octo", "repo": "hello", "title": "Add feature", "head": "feature", "base": "main"}


@pytest.fixture
def vendor() -> Iterator[FakeVendor]:
    with serve_vendor() as fake:
        fake.expect_bearer(TOKEN)
        yield fake


@pytest.fixture
def handler(local_api: object) -> Any:
    from app import run_operations

    return run_operations


def run_of(tenant: str, run_id: str) -> Run:
    run = store.get(tenant, run_id)
    assert run is not None
    return run
