"""Lean functions: a queue, stream or schedule Lambda does not load the API (docs/performance.md)."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib.core.handler import serves_api

ROOT = Path(__file__).resolve().parents[2]
# Off every event handler's import path (docs/performance.md "Cold start and package"): Powertools' batch
# utilities and event data classes (chalicelib/core/batch.py replaces them), and its logger and metrics, which
# chalicelib/core/logging.py and chalicelib/core/metrics.py import on first use; the vendor adapters, which
# chalicelib/adapters/registry.py discovers on the first operation.
NOT_ON_A_HANDLERS_PATH = (
    "aws_lambda_powertools.utilities.batch",
    "aws_lambda_powertools.utilities.data_classes",
    "aws_lambda_powertools.utilities.parser",
    "aws_lambda_powertools.logging",
    "aws_lambda_powertools.metrics",
    "asyncio",
    "chalicelib.adapters.model_api",
    "chalicelib.adapters.github",
    "chalicelib.adapters.mcp",
    "cryptography",  # v1a signing keys, SNS and JWT signatures load it on use
    # Vendor calls load the adapter machinery when they happen (connections.health._report, connections.secret,
    # runs.worker.process), so the dead-letter, sweep, rotation and run functions do not pay for it at init.
    "chalicelib.adapters.auth",
    "chalicelib.adapters.base",
    "chalicelib.adapters.http",
    "chalicelib.adapters.registry",
    "chalicelib.providers.catalog",  # builds (and validates) every built-in provider
    "chalicelib.connections.service",  # the API's side of connections
    "pydantic.networks",  # core.models.HttpUrl validates URLs with pydantic-core directly
)
# Per function, what it loads only when an invocation needs it (a vendor call, a stale rotation, a finished run).
LOADED_ON_USE = {
    "run_operations": ("chalicelib.runs.execution", "chalicelib.connections"),
    "run_dead_letters": ("chalicelib.runs.execution", "chalicelib.connections"),
    "health_sweep": ("chalicelib.connections.health",),
    "health_check_dead_letters": ("chalicelib.connections.health",),
    "inflight_sweep": ("chalicelib.rotation.service", "chalicelib.connections", "chalicelib.runs.execution"),
    "credential_rotation": ("chalicelib.connections.service", "chalicelib.inbound.signatures"),
}
# What registering the API's routes may load (chalicelib/api/routing.py): the request pipeline, not a domain package;
# each view imports its services, and a declaration names its models by dotted path.
API_INIT_PACKAGES = ("chalicelib.api", "chalicelib.core", "chalicelib.auth", "chalicelib.ratelimit")


def handler_modules() -> dict[str, list[str]]:
    """Each event handler in app.py and the modules it imports when invoked."""
    tree = ast.parse((ROOT / "app.py").read_text())
    found: dict[str, list[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            imports = [n.module for n in ast.walk(node) if isinstance(n, ast.ImportFrom) and n.module]
            found[node.name] = imports
    return found


def loaded_modules(handler: str | None, imports: list[str]) -> dict[str, object]:
    """``import app`` (and the handler's modules) in a fresh interpreter as Lambda runs the function ``handler``."""
    code = (
        "import importlib, json, sys\n"
        "import app\n"
        f"for name in {imports!r}: importlib.import_module(name)\n"
        "print(json.dumps({'modules': sorted(sys.modules), 'routes': sorted(app.app.routes)}))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "_HANDLER"} | {"PYTHONDONTWRITEBYTECODE": "1"}
    if handler is not None:
        env["_HANDLER"] = handler
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    loaded: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return loaded


def test_serves_api_only_for_the_api_handler_or_outside_lambda() -> None:
    assert serves_api({})
    assert serves_api({"_HANDLER": ""})
    assert serves_api({"_HANDLER": "app.app"})
    assert not serves_api({"_HANDLER": "app.events_stream"})
    assert not serves_api({"_HANDLER": "app.credential_rotation"})


def test_every_event_handler_is_found() -> None:
    handlers = handler_modules()
    assert {
        "outbound_dispatch",
        "events_stream",
        "events_stream_failures",
        "credential_rotation",
        "health_sweep",
    } <= set(handlers)
    assert all(handlers.values())


@pytest.mark.parametrize("handler", sorted(handler_modules()))
def test_event_handler_loads_no_api_module(handler: str) -> None:
    loaded = loaded_modules(f"app.{handler}", handler_modules()[handler])
    modules = loaded["modules"]
    assert isinstance(modules, list)
    assert [name for name in modules if name.startswith("chalicelib.api.")] == []
    # The X-Ray SDK loads on the first vendor call or webhook send (chalicelib.core.tracing), not at init.
    assert [name for name in modules if name.split(".")[0] in {"aws_xray_sdk", "wrapt"}] == []
    assert loaded["routes"] == []
    assert [name for name in modules if name.startswith(NOT_ON_A_HANDLERS_PATH)] == []


def test_api_handler_and_packaging_load_every_route() -> None:
    without_lambda = loaded_modules(None, [])
    assert without_lambda == loaded_modules("app.app", [])
    routes = without_lambda["routes"]
    assert isinstance(routes, list) and "/integrations/connections" in routes and "/openapi.json" in routes


@pytest.mark.parametrize("handler", ["events_stream", "events_stream_failures"])
def test_the_events_stream_and_its_failure_consumer_load_no_inbound_module(handler: str) -> None:
    """An inbound event carries its payload in its own item: reading it needs no delivery code (events.store)."""
    loaded = loaded_modules(f"app.{handler}", handler_modules()[handler])["modules"]
    assert isinstance(loaded, list)
    assert [name for name in loaded if name.startswith(("chalicelib.inbound", "chalicelib.connections"))] == []


def test_the_api_registers_its_routes_without_any_domain_module() -> None:
    loaded = loaded_modules("app.app", [])
    modules = loaded["modules"]
    assert isinstance(modules, list) and "chalicelib.api.connections" in modules
    ours = [name for name in modules if name.startswith("chalicelib.")]
    assert [name for name in ours if not name.startswith(API_INIT_PACKAGES)] == []
    assert [name for name in ours if name.endswith("models")] == []
    assert "chalicelib.auth.api_keys" not in modules  # loaded by the first request that sends an API key


def loaded_by(module: str) -> list[str]:
    """Every module ``import module`` loads in a fresh interpreter."""
    code = f"import json, sys\nimport {module}\nprint(json.dumps(sorted(sys.modules)))\n"
    env = {k: v for k, v in os.environ.items() if k != "_HANDLER"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    modules: list[str] = json.loads(done.stdout.splitlines()[-1])
    return modules


def test_models_import_no_behaviour() -> None:
    """A stored shape is read by most functions before anything else: it must not drag code in with it."""
    runs = loaded_by("chalicelib.runs.models")
    assert [
        name for name in runs if name.startswith("chalicelib.adapters.") and name != "chalicelib.adapters.models"
    ] == []
    assert [name for name in runs if name in {"chalicelib.core.http", "chalicelib.core.urls", "urllib.request"}] == []
    for module in ("chalicelib.connections.models", "chalicelib.providers.models"):
        loaded = loaded_by(module)
        assert "importlib.metadata" not in loaded and "pydantic.networks" not in loaded, module
        assert "pydantic.plugin._loader" not in loaded, module  # no model is validated (its schema built) at import


@pytest.mark.parametrize("handler", sorted(LOADED_ON_USE))
def test_a_function_loads_what_only_some_invocations_need_on_use(handler: str) -> None:
    modules = loaded_modules(f"app.{handler}", handler_modules()[handler])["modules"]
    assert isinstance(modules, list)
    assert [name for name in modules if name.startswith(LOADED_ON_USE[handler])] == []
