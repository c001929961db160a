"""Declarations name their models by dotted path: each resolves to a pydantic model, a typo fails loudly."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

import app  # noqa: F401  (registers every route)
from chalicelib.api.routing import OPERATIONS, model
from chalicelib.core.models import ListQuery


def test_every_declared_model_path_names_a_pydantic_model() -> None:
    paths = {path for op in OPERATIONS for path in (op.request, op.response, op.query) if path is not None}
    assert len(paths) > 40
    for path in sorted(paths):
        resolved = model(path)
        assert issubclass(resolved, BaseModel) and path.endswith("." + resolved.__name__), path


def test_an_operation_hands_its_resolved_models_to_its_readers() -> None:
    listing = next(op for op in OPERATIONS if op.method == "GET" and op.path == "/integrations/connections")
    assert listing.query_model is not None and listing.query_model.__name__ == "ConnectionListQuery"
    assert listing.request is None and listing.request_model is None


def test_a_path_that_names_no_model_is_refused() -> None:
    assert model("chalicelib.core.models.ListQuery") is ListQuery
    with pytest.raises(TypeError, match="not a pydantic model"):
        model("chalicelib.core.models.MAX_DOCUMENT_BYTES")
    with pytest.raises(TypeError, match="not a pydantic model"):
        model("chalicelib.core.models.NoSuchModel")
    with pytest.raises(ModuleNotFoundError):
        model("chalicelib.no_such_module.Model")
