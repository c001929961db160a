"""Property-based: every operation in ``/openapi.json`` with valid credentials never answers 5xx and
always answers what the document says (status, content type, headers, body schema).

The document is the one the app serves (built from the same declarations at collection time), so
each operation is its own test item and xdist can spread them; the requests go over HTTP to
``http_api``. Examples per operation are bounded (``MAX_EXAMPLES``) so the suite fits a CI budget.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from infra.local.dev_issuer import DevIssuer
from tests.conftest import CASES_PROPERTY

MAX_EXAMPLES = 20
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def _document() -> dict[str, Any]:
    import app  # noqa: F401  (registers every operation)
    from chalicelib.api.openapi import document_json

    parsed: dict[str, Any] = json.loads(document_json())
    return parsed


SCHEMA = schemathesis.openapi.from_dict(_document())
ROUTES = [(method.upper(), path) for path, item in SCHEMA.raw_schema["paths"].items() for method in item]


@pytest.fixture(scope="session")
def credentials(issuer: DevIssuer) -> dict[str, str]:
    return {"Authorization": f"Bearer {issuer.token('tenant-schemathesis')}"}


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_every_operation_conforms(
    method: str, path: str, http_api: str, credentials: dict[str, str], record_property: Any
) -> None:
    generated = 0

    @given(case=SCHEMA[path][method].as_strategy())
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def conforms(case: Any) -> None:
        nonlocal generated
        generated += 1
        # The document offers a bearer token or an API key; schemathesis would fill in both, and a request with
        # both is refused (401) before it reaches the operation. The bearer token is the valid credential here.
        case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "x-api-key"}
        case.call_and_validate(base_url=http_api, headers=credentials, checks=CHECKS, timeout=30)

    try:
        conforms()
    finally:
        record_property(CASES_PROPERTY, generated)
