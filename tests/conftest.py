"""Shared fixtures: moto as AWS with the template's resources, the dev issuer, the app.

The environment is fixed before the app is imported, because settings are read
once per process exactly as in Lambda. Each test works in its own tenant, so
tests never see each other's data without resetting the shared moto state.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "STAGE": "dev",
        "RESOURCE_PREFIX": "integration-platform-test",
        "ALLOW_INSECURE_URLS": "true",
        "POWERTOOLS_SERVICE_NAME": "integration-platform",
        "ROTATION_INVOKER": "local",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)

from moto import mock_aws

from infra.local.dev_issuer import DEV_AUDIENCE, DEV_ISSUER, DevIssuer
from tests.support.jwks_server import serve_jwks


@pytest.fixture(scope="session")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevIssuer]:
    dev_issuer = DevIssuer(Path(tmp_path_factory.mktemp("issuer")) / "dev-issuer.pem")
    with serve_jwks(dev_issuer.jwks()) as jwks_url:
        os.environ.update({"JWKS_URL": jwks_url, "JWT_ISSUER": DEV_ISSUER, "JWT_AUDIENCE": DEV_AUDIENCE})
        yield dev_issuer


@pytest.fixture(scope="session")
def aws(issuer: DevIssuer) -> Iterator[None]:
    from chalicelib.core.aws import reset_clients
    from chalicelib.core.config import get_settings
    from infra.local.atomic_writes import make_dynamodb_writes_atomic, make_secrets_manager_thread_safe
    from infra.local.provision import provision

    make_dynamodb_writes_atomic()
    make_secrets_manager_thread_safe()
    get_settings.cache_clear()
    with mock_aws():
        reset_clients()
        provision(get_settings().resource_prefix)
        yield
    reset_clients()


@pytest.fixture(scope="session")
def local_api(aws: None) -> object:
    from app import app
    from infra.local.gateway import LocalApi

    return LocalApi(app)


@pytest.fixture(scope="session")
def http_api(local_api: object, issuer: DevIssuer) -> Iterator[str]:
    """The API over real HTTP on 127.0.0.1: the local runtime's front, in a thread, inside the moto session."""
    from infra.local.gateway import LocalApi
    from infra.local.server import LocalHttpServer

    assert isinstance(local_api, LocalApi)
    server = LocalHttpServer(0)
    server.attach(local_api, issuer.jwks())
    thread = threading.Thread(target=server.serve_forever, name="test-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def document(local_api: object) -> dict[str, Any]:
    """The OpenAPI document as the API serves it, fetched once per test module."""
    from tests.support.api_client import ApiClient

    reply = ApiClient(local_api).get("/openapi.json")  # type: ignore[arg-type]
    assert reply.status == 200, reply.body
    parsed: dict[str, Any] = json.loads(reply.body)
    return parsed


@pytest.fixture(autouse=True)
def fresh_container(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts as a fresh Lambda container: no rate-limit or stats counts held from another test."""
    from chalicelib.ratelimit import limiter
    from chalicelib.stats import record

    monkeypatch.setattr(limiter, "COUNTS", limiter.Counts())
    monkeypatch.setattr(record, "HELD", record.Amortized(record.FLUSH_SECONDS))


@pytest.fixture
def tenant() -> str:
    return f"tenant-{secrets.token_hex(4)}"


@pytest.fixture
def client(local_api: object, issuer: DevIssuer, tenant: str) -> object:
    from tests.support.api_client import ApiClient

    return ApiClient(local_api, issuer.token(tenant))  # type: ignore[arg-type]


# Set by tests/reliability/test_schemathesis.py on its reports. The summary hook lives here, in the
# root conftest, because under xdist only the controller prints and it loads no sub-package conftest.
CASES_PROPERTY = "schemathesis_cases"
# Set by tests/browser on its reports: the screenshots written to build/screenshots.
SCREENSHOT_PROPERTY = "screenshot"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    per_operation = [
        int(value)
        for reports in terminalreporter.stats.values()
        for report in reports
        if getattr(report, "when", "") == "call"
        for name, value in getattr(report, "user_properties", [])
        if name == CASES_PROPERTY
    ]
    if per_operation:
        terminalreporter.write_sep(
            "-", f"schemathesis: {sum(per_operation)} generated cases over {len(per_operation)} operations"
        )
    shots = sorted(
        {
            str(value)
            for reports in terminalreporter.stats.values()
            for report in reports
            for name, value in getattr(report, "user_properties", [])
            if name == SCREENSHOT_PROPERTY
        }
    )
    if shots:
        terminalreporter.write_sep("-", f"browser screenshots ({len(shots)})")
        for path in shots:
            terminalreporter.write_line(path)
