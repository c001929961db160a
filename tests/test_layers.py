"""The package layers, read from the source: a package imports only its own layer and the layers below.

Every ``import`` and ``from ... import`` counts, also those inside functions
(lazy imports for cold start) and under ``TYPE_CHECKING``: they are dependencies
a reader has to follow all the same. The domain layer is intertwined today
(connections, inbound, runs and schedules reach each other); the rule still
keeps it from reaching up into the workflows and the HTTP surface above it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CHALICELIB = Path(__file__).resolve().parents[1] / "chalicelib"

LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"core"}),
    frozenset({"auth", "credentials", "destinations", "providers", "ratelimit", "system"}),
    frozenset(
        {"adapters", "connections", "events", "inbound", "live", "outbound", "protection", "runs", "schedules", "stats"}
    ),
    frozenset({"health", "mcp", "portal", "rotation", "sweeper"}),
    frozenset({"api"}),
)


def layer_of(package: str) -> int:
    return next(index for index, members in enumerate(LAYERS) if package in members)


def imported_packages(package: str) -> dict[str, set[str]]:
    """Each other ``chalicelib`` package that ``package`` imports, with the modules that import it."""
    found: dict[str, set[str]] = {}
    for path in sorted((CHALICELIB / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.ImportFrom) and node.module == "chalicelib":
                names = [f"chalicelib.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                parts = name.split(".")
                if parts[0] == "chalicelib" and len(parts) > 1 and parts[1] != package:
                    found.setdefault(parts[1], set()).add(str(path.relative_to(CHALICELIB)))
    return found


PACKAGES = sorted(p.name for p in CHALICELIB.iterdir() if (p / "__init__.py").is_file())


def test_every_package_has_a_layer() -> None:
    assert sorted(name for members in LAYERS for name in members) == PACKAGES


@pytest.mark.parametrize("package", PACKAGES)
def test_a_package_imports_only_its_layer_and_below(package: str) -> None:
    upward = {
        target: sorted(modules)
        for target, modules in imported_packages(package).items()
        if layer_of(target) > layer_of(package)
    }
    assert upward == {}, f"chalicelib.{package} imports packages above its layer"


def test_credentials_holds_the_vault_and_imports_only_core() -> None:
    """The vault is below connections and runs, which use it; the rotation workflow lives in ``rotation``."""
    assert set(imported_packages("credentials")) == {"core"}


def test_destinations_imports_only_core() -> None:
    """Outbound (the dispatcher, subscriptions) uses the writers; the writers know nothing of subscriptions."""
    assert set(imported_packages("destinations")) == {"core"}
