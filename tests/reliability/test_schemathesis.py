"""Property-based: every operation in ``/openapi.json`` with valid credentials never answers 5xx,
always answers what the document says (status, content type, headers, body schema), and takes every
request the document says is valid (ST202): a rule the server enforces is a rule the document states.

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
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.config import SchemathesisConfig

from infra.local.dev_issuer import DevIssuer
from tests.conftest import CASES_PROPERTY
from tests.support.waiting import WAIT_SECONDS

MAX_EXAMPLES = 20
CHECKS = [
    not_a_server_error,
    positive_data_acceptance,
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


# A valid request may still be refused for the state it meets: 404 (no such resource), 409 (a conflict), 422 (a
# provider that is not registered, an Idempotency-Key reused with another body): none of these is a 400.
ACCEPTED = ["2xx", "401", "403", "404", "409", "422", "429"]
CONFIG = SchemathesisConfig.from_dict({"checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED}}})
SCHEMA = schemathesis.openapi.from_dict(_document(), config=CONFIG)
ROUTES = [(method.upper(), path) for path, item in SCHEMA.raw_schema["paths"].items() for method in item]


def _state_what_no_schema_can(case: Any) -> None:
    """A ``cursor`` is valid only as this API returned it (its description says so); generated text is not."""
    (case.query or {}).pop("cursor", None)


# Operations that refuse some schema-valid requests for a rule no JSON Schema can state, so ST202 is not asked of
# them (every other check is). Each entry names the rule; docs/api.md lists them for client authors.
UNSTATED_RULES = {
    ("POST", "/auth/api-keys"): "expiresAt must be in the future (a rule about now)",
    ("GET", "/metrics"): "connectionId and subscriptionId exclude each other; from <= to, at most 1440 points",
    ("POST", "/webhooks/subscriptions"): "endpointUrl's host must resolve to a public address (DNS)",
    ("POST", "/integrations/providers"): "configurationSchema must be a JSON Schema of the supported subset",
    ("PATCH", "/webhooks/subscriptions/{subscriptionId}"): (
        "delivery 'ordered' needs a destination that keeps order; a PATCH that changes one of the two is checked"
        " against the other as stored (the document states it when both are given)"
    ),
}


@pytest.fixture(scope="session")
def credentials(issuer: DevIssuer) -> dict[str, str]:
    return {"Authorization": f"Bearer {issuer.token('tenant-schemathesis')}"}


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_every_operation_conforms(
    method: str, path: str, http_api: str, credentials: dict[str, str], record_property: Any
) -> None:
    generated = 0
    unstated = (method, path) in UNSTATED_RULES
    checks = [check for check in CHECKS if not (unstated and check is positive_data_acceptance)]

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
        _state_what_no_schema_can(case)
        case.call_and_validate(base_url=http_api, headers=credentials, checks=checks, timeout=WAIT_SECONDS)

    try:
        conforms()
    finally:
        record_property(CASES_PROPERTY, generated)
