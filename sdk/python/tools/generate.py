"""Write ``integration_platform/models.py`` from the platform's ``/openapi.json``.

Standard library only, so anyone can regenerate without the platform installed:

    python tools/generate.py openapi.json            # a saved document
    python tools/generate.py http://127.0.0.1:8000   # a running platform

Each object schema becomes a ``TypedDict`` (required keys ``Required``, the
rest optional, because the API omits absent fields), each string enum a
``Literal`` alias, each discriminated union (``oneOf`` with a ``discriminator``,
as a subscription's ``destination``) an alias named by the suffix its members
share (``WebhookDestination | SqsDestination | ...`` is ``Destination``), and
``OPERATIONS`` maps every operationId to its method and
path so the client and its tests can see the whole API; ``INGEST_OPERATIONS``
names the ones marked ``x-front: ingest``, which a deployed stage serves on its
ingest address. ``tests/sdk`` renders
the in-process document and fails when the committed file differs.
"""

from __future__ import annotations

import json
import keyword
import re
import sys
import urllib.request
from pathlib import Path
from typing import Any

MODELS = Path(__file__).resolve().parents[1] / "integration_platform" / "models.py"
HEADER = '''"""Typed models of the Integration Platform API, generated from its ``/openapi.json``.

Do not edit: run ``python sdk/python/tools/generate.py <document or URL>``.
"""

from __future__ import annotations

from typing import Any, Literal, Required, TypeAlias, TypedDict
'''
LINE_LENGTH = 120
SCALARS = {"string": "str", "integer": "int", "number": "float", "boolean": "bool", "null": "None"}


def class_name(schema_name: str) -> str:
    """pydantic spells clashing names ``pkg__sub__models__Name``: keep the subpackage as a prefix."""
    parts = schema_name.split("__")
    if len(parts) == 1:
        return schema_name
    owner = parts[-3] if len(parts) >= 3 and parts[-2] == "models" else parts[-2]
    return owner.capitalize() + parts[-1]


def literal(value: object) -> str:
    """A Python literal spelled as ``ruff format`` spells it (double quotes)."""
    return json.dumps(value) if isinstance(value, str) else repr(value)


def alias(name: str, kind: str) -> str:
    """``name: TypeAlias = kind``, exploded one member a line when too long, as ``ruff format`` would.

    A recursive alias (``JsonValue``) is quoted: the name does not exist yet where it is defined.
    """
    if re.search(rf"\b{name}\b", kind):
        kind = f'"{kind}"'
    line = f"{name}: TypeAlias = {kind}\n"
    if len(line) <= LINE_LENGTH or not kind.startswith("Literal["):
        return line
    members = kind[len("Literal[") : -1].split(", ")
    return f"{name}: TypeAlias = Literal[\n" + "".join(f"    {member},\n" for member in members) + "]\n"


def field_line(field: str, kind: str) -> str:
    """``    field: kind``, split inside ``Literal[...]`` when too long, as ``ruff format`` would."""
    line = f"    {field}: {kind}\n"
    if len(line) <= LINE_LENGTH or not (kind.startswith("Literal[") and kind.endswith("]")):
        return line
    inner = kind[len("Literal[") : -1]
    if len(f"        {inner}") <= LINE_LENGTH:
        return f"    {field}: Literal[\n        {inner}\n    ]\n"
    return f"    {field}: Literal[\n" + "".join(f"        {member},\n" for member in inner.split(", ")) + "    ]\n"


def union_members(schema: dict[str, Any]) -> list[str]:
    """The classes of a discriminated union of components, or [] when ``schema`` is not one."""
    members = schema.get("oneOf", [])
    if "discriminator" not in schema or not members or not all("$ref" in member for member in members):
        return []
    return [annotation(member) for member in members]


def union_name(members: list[str]) -> str:
    """The capitalized suffix every member's name ends with (``Destination``); "" when they share none."""
    shortest = min(members, key=len)
    for start in range(1, len(shortest)):
        suffix = shortest[start:]
        if suffix[0].isupper() and all(member.endswith(suffix) for member in members):
            return suffix
    return ""


def unions(node: Any) -> dict[str, str]:
    """Every named discriminated union in a document: its alias name and the union, quoted (its classes come later)."""
    found: dict[str, str] = {}
    if isinstance(node, dict):
        members = union_members(node)
        if members and union_name(members):
            found[union_name(members)] = '"' + " | ".join(members) + '"'
        for value in node.values():
            found.update(unions(value))
    elif isinstance(node, list):
        for value in node:
            found.update(unions(value))
    return found


def union_alias(name: str, kind: str) -> str:
    """``name: TypeAlias = "A | B"``, in parentheses on a line of its own when too long, as ``ruff format`` would."""
    line = f"{name}: TypeAlias = {kind}\n"
    return line if len(line) <= LINE_LENGTH else f"{name}: TypeAlias = (\n    {kind}\n)\n"


def annotation(schema: dict[str, Any]) -> str:
    """The Python type of one JSON schema (as used by pydantic's generator)."""
    if "$ref" in schema:
        return class_name(schema["$ref"].rsplit("/", 1)[-1])
    members = union_members(schema)
    if members:
        return union_name(members) or " | ".join(members)
    if "anyOf" in schema:
        members = list(dict.fromkeys(annotation(member) for member in schema["anyOf"]))
        return " | ".join(members)
    if "const" in schema:
        return f"Literal[{literal(schema['const'])}]"
    if "enum" in schema:
        return "Literal[" + ", ".join(literal(value) for value in schema["enum"]) + "]"
    kind = schema.get("type")
    if isinstance(kind, list):
        return " | ".join(annotation({**schema, "type": member}) for member in kind)
    if kind == "array":
        return f"list[{annotation(schema.get('items', {}))}]"
    if kind == "object":
        extra = schema.get("additionalProperties")
        value = annotation(extra) if isinstance(extra, dict) and extra else "Any"
        return f"dict[str, {value}]"
    return SCALARS.get(kind, "Any") if isinstance(kind, str) else "Any"


def typed_dict(name: str, schema: dict[str, Any]) -> str:
    required = set(schema.get("required", []))
    fields = [
        (field, annotation(spec) if field not in required else f"Required[{annotation(spec)}]")
        for field, spec in schema.get("properties", {}).items()
    ]
    doc = (schema.get("description") or schema.get("title") or name).strip().splitlines()[0]
    if all(field.isidentifier() and not keyword.iskeyword(field) for field, _ in fields):
        body = "".join(field_line(field, kind) for field, kind in fields) or "    pass\n"
        return f'class {name}(TypedDict, total=False):\n    """{doc}"""\n\n{body}'
    # Annotations as strings with single quotes inside, so ``ruff format`` keeps them as they are.
    pairs = [f'{literal(field)}: "{kind.replace(chr(34), chr(39))}"' for field, kind in fields]
    line = f"{name} = TypedDict({literal(name)}, {{{', '.join(pairs)}}}, total=False)\n"
    if len(line) <= LINE_LENGTH:
        return line
    items = "".join(f"        {pair},\n" for pair in pairs)
    return f"{name} = TypedDict(\n    {literal(name)},\n    {{\n{items}    }},\n    total=False,\n)\n"


def render(document: dict[str, Any]) -> str:
    """The source of ``models.py`` for ``document``; deterministic, so a diff means drift."""
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    classes, named = [], {name: union_alias(name, kind) for name, kind in unions(schemas).items()}
    for schema_name in sorted(schemas, key=class_name):
        schema, name = schemas[schema_name], class_name(schema_name)
        if schema.get("type") == "object" and "properties" in schema:
            classes.append(typed_dict(name, schema))
        else:
            named[name] = alias(name, annotation(schema))
    aliases = [named[name] for name in sorted(named)]
    operations = sorted(
        (operation["operationId"], method.upper(), path)
        for path, item in document.get("paths", {}).items()
        for method, operation in item.items()
    )
    table = "".join(f"    {literal(op)}: ({literal(method)}, {literal(path)}),\n" for op, method, path in operations)
    ingest = sorted(
        operation["operationId"]
        for item in document.get("paths", {}).values()
        for operation in item.values()
        if operation.get("x-front") == "ingest"
    )
    ingest_set = "".join(f"        {literal(op)},\n" for op in ingest)
    version = literal(document.get("info", {}).get("version", ""))
    return (
        f"{HEADER}\nAPI_VERSION = {version}\n\n"
        + "\n".join(aliases)
        + "\n\n"
        + "\n\n".join(classes)
        + f"\n\nOPERATIONS: dict[str, tuple[str, str]] = {{\n{table}}}\n"
        + "# Served on the ingest address when deployed (x-front: ingest), not the API's base URL.\n"
        + f"INGEST_OPERATIONS: frozenset[str] = frozenset(\n    {{\n{ingest_set}    }}\n)\n"
    )


def load(source: str) -> dict[str, Any]:
    if source.startswith(("http://", "https://")):
        with urllib.request.urlopen(source.rstrip("/") + "/openapi.json", timeout=30) as response:
            loaded: dict[str, Any] = json.load(response)
            return loaded
    parsed: dict[str, Any] = json.loads(Path(source).read_text())
    return parsed


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    MODELS.write_text(render(load(argv[0])))
    print(f"wrote {MODELS}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
