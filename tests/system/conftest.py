"""The OpenAPI document as the API serves it, fetched once for the module's tests."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.api_client import ApiClient


@pytest.fixture(scope="module")
def document(local_api: object) -> dict[str, Any]:
    reply = ApiClient(local_api).get("/openapi.json")  # type: ignore[arg-type]
    assert reply.status == 200, reply.body
    parsed: dict[str, Any] = json.loads(reply.body)
    return parsed
