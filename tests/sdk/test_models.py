"""The committed models and operation table are exactly what the generator makes of today's ``/openapi.json``."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from integration_platform import Client, models

SDK_DIR = Path(__file__).resolve().parents[2] / "sdk" / "python"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sdk_generate", SDK_DIR / "tools" / "generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    import app  # noqa: F401  (registers every operation)
    from chalicelib.api.openapi import document_json

    parsed: dict[str, Any] = json.loads(document_json())
    return parsed


def test_committed_models_match_the_current_openapi_document(document: dict[str, Any]) -> None:
    generated = _generator().render(document)
    committed = (SDK_DIR / "integration_platform" / "models.py").read_text()
    assert committed == generated, "models.py drifted from /openapi.json: run make sdk-models"


def test_a_changed_schema_is_caught(document: dict[str, Any]) -> None:
    changed = json.loads(json.dumps(document))
    changed["components"]["schemas"]["Run"]["properties"]["newField"] = {"type": "string"}
    assert _generator().render(changed) != (SDK_DIR / "integration_platform" / "models.py").read_text()


def test_every_operation_has_a_client_method_on_its_route(document: dict[str, Any]) -> None:
    routes = {
        operation["operationId"]: (method.upper(), path)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }
    assert routes == models.OPERATIONS
    missing = sorted(name for name in routes if not callable(getattr(Client, name, None)))
    assert missing == []


def test_every_component_schema_has_a_model(document: dict[str, Any]) -> None:
    generator = _generator()
    names = {generator.class_name(name) for name in document["components"]["schemas"]}
    assert sorted(name for name in names if not hasattr(models, name)) == []


def test_a_discriminated_union_becomes_an_alias_named_by_its_members_suffix() -> None:
    """A subscription's ``destination`` reads as ``Destination``, not ``Any``; a long alias wraps as ruff would."""
    refs = [{"$ref": f"#/components/schemas/{name}"} for name in ("WebhookDestination", "SqsDestination")]
    union = {"oneOf": refs, "discriminator": {"propertyName": "type"}}
    member = {"type": "object", "properties": {"type": {"const": "x"}}}
    document = {
        "components": {
            "schemas": {
                "WebhookDestination": member,
                "SqsDestination": member,
                "Subscription": {"type": "object", "properties": {"destination": union}, "required": ["destination"]},
                "Other": {
                    "type": "object",
                    "properties": {"either": {**union, "oneOf": [*refs[:1], {"type": "string"}]}},
                },
            }
        }
    }
    source = _generator().render(document)
    assert 'Destination: TypeAlias = "WebhookDestination | SqsDestination"\n' in source
    assert "    destination: Required[Destination]\n" in source
    assert "    either: Any\n" in source  # not a union of components: nothing to name
    long = _generator().union_alias("Destination", '"' + " | ".join(["VeryLongMemberDestination"] * 5) + '"')
    assert long.startswith('Destination: TypeAlias = (\n    "') and long.endswith('"\n)\n')
