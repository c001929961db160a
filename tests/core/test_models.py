"""Free-form JSON documents keep to their size, depth and key limits (values: tests/core/test_json_input.py)."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from chalicelib.core.models import MAX_DOCUMENT_BYTES, MAX_DOCUMENT_DEPTH, JsonObject

DOCUMENT = TypeAdapter(JsonObject)


def nested(depth: int) -> dict[str, object]:
    document: dict[str, object] = {"leaf": 1}
    for _ in range(depth):
        document = {"a": document}
    return document


@pytest.mark.parametrize(
    "document",
    [
        {},
        {"org": "acme", "retries": 3, "ratio": 0.25, "on": True, "none": None, "list": [1, "x", {"y": []}]},
        {"big": 10**37, "small": 1e-100, "large": 1e120, "zero": 0.0, "negative": -(10**37)},
        nested(MAX_DOCUMENT_DEPTH - 1),
    ],
)
def test_storable_documents_pass(document: dict[str, object]) -> None:
    assert DOCUMENT.validate_python(document) == document


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ({"": 1}, "empty"),
        ({"a": {"": 1}}, "empty"),
        (nested(MAX_DOCUMENT_DEPTH + 1), "deeper"),
        ({"s": "x" * MAX_DOCUMENT_BYTES}, "larger"),
    ],
)
def test_unstorable_documents_fail(document: dict[str, object], reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        DOCUMENT.validate_python(document)
