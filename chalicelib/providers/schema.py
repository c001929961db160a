"""A validator for the small JSON Schema subset connection configuration uses.

``jsonschema`` would add its ``referencing``/``rpds`` dependencies (a compiled
wheel) to the deployment package for the dozen keywords configuration needs,
so this module implements exactly those: ``type``, ``properties``,
``required``, ``additionalProperties`` (boolean or schema), ``enum``,
``minimum``/``maximum``/``exclusiveMinimum``, ``minLength``/``maxLength``,
``items``, ``maxItems`` and ``description``. A registered provider's schema
using anything else is refused at registration (``check_schema``), so a
keyword is never silently ignored. Errors name the field as the API does
(``configuration.rateLimit.burst``, ``configuration.snsTopicArns[2]``).
"""

from __future__ import annotations

from typing import Any

from chalicelib.core.errors import FieldError, ValidationFailed

KEYWORDS = frozenset(
    {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "enum",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "minLength",
        "maxLength",
        "items",
        "maxItems",
        "description",
    }
)
TYPES = frozenset({"object", "string", "integer", "number", "boolean", "array"})
MAX_SCHEMA_DEPTH = 8


def _type_ok(kind: str, value: Any) -> bool:
    if kind == "object":
        return isinstance(value, dict)
    if kind == "array":
        return isinstance(value, list)
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, int | float) and not isinstance(value, bool)  # number


def errors(schema: dict[str, Any], value: Any, path: str) -> list[FieldError]:
    """Every way ``value`` breaks ``schema``, each naming its field; empty when it fits."""
    kind = schema.get("type")
    if kind is not None and not _type_ok(kind, value):
        return [FieldError(path, f"expected {'an' if kind in ('object', 'array', 'integer') else 'a'} {kind}")]
    found: list[FieldError] = []
    if "enum" in schema and value not in schema["enum"]:
        found.append(FieldError(path, "expected one of " + ", ".join(map(str, schema["enum"]))))
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            found.append(FieldError(path, f"must be at least {schema['minimum']}"))
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            found.append(FieldError(path, f"must be more than {schema['exclusiveMinimum']}"))
        if "maximum" in schema and value > schema["maximum"]:
            found.append(FieldError(path, f"must be at most {schema['maximum']}"))
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            found.append(FieldError(path, f"must be at least {schema['minLength']} characters"))
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            found.append(FieldError(path, f"must be at most {schema['maxLength']} characters"))
    if isinstance(value, list):
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            found.append(FieldError(path, f"must have at most {schema['maxItems']} items"))
        if "items" in schema:
            for index, item in enumerate(value):
                found += errors(schema["items"], item, f"{path}[{index}]")
    if isinstance(value, dict):
        found += _object_errors(schema, value, path)
    return found


def _object_errors(schema: dict[str, Any], value: dict[str, Any], path: str) -> list[FieldError]:
    found = [FieldError(f"{path}.{name}", "required") for name in schema.get("required", []) if name not in value]
    properties: dict[str, Any] = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for name, item in value.items():
        if name in properties:
            found += errors(properties[name], item, f"{path}.{name}")
        elif extra is False:
            found.append(FieldError(f"{path}.{name}", "not a known field for this provider"))
        elif isinstance(extra, dict):
            found += errors(extra, item, f"{path}.{name}")
    return found


def validate(schema: dict[str, Any], value: Any, path: str) -> None:
    """Raise a 400 naming each offending field."""
    found = errors(schema, value, path)
    if found:
        names = ", ".join(e.field for e in found[:5])
        raise ValidationFailed(f"{path} does not fit the provider's configuration schema ({names}).", found)


def check_schema(schema: Any, path: str, depth: int = 0) -> None:
    """A registered provider's schema must use only the keywords ``validate`` understands."""
    if not isinstance(schema, dict):
        raise ValidationFailed(f"{path} must be a JSON Schema object.", [FieldError(path, "not an object")])
    if depth > MAX_SCHEMA_DEPTH:
        raise ValidationFailed(f"{path} nests too deeply.", [FieldError(path, "too deep")])
    unknown = sorted(set(schema) - KEYWORDS)
    if unknown:
        field = f"{path}.{unknown[0]}"
        raise ValidationFailed(
            f"{field} is not a supported JSON Schema keyword (supported: {', '.join(sorted(KEYWORDS))}).",
            [FieldError(field, "unsupported keyword")],
        )
    kind = schema.get("type")
    if kind is not None and kind not in TYPES:
        known = ", ".join(sorted(TYPES))
        raise ValidationFailed(f"{path}.type must be one of {known}.", [FieldError(f"{path}.type", "unknown type")])
    for name, child in (schema.get("properties") or {}).items():
        check_schema(child, f"{path}.properties.{name}", depth + 1)
    for key in ("items", "additionalProperties"):
        child = schema.get(key)
        if isinstance(child, dict):
            check_schema(child, f"{path}.{key}", depth + 1)
