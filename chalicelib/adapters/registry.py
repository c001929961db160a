"""Which adapter serves a provider: built-ins by key, tenant-registered providers by generic HTTP.

Every module in this package that defines ``ADAPTER`` is registered, so adding a
vendor is adding one module (docs/adapters.md). They are discovered on the first
lookup, not at import: importing every vendor module cost the functions that
import this one but never run an operation (dead letters, sweeps) about a tenth
of their cold start (docs/performance.md "Cold start and package").
"""

from __future__ import annotations

import functools
import importlib
import pkgutil

import chalicelib.adapters as package
from chalicelib.adapters import generic_http
from chalicelib.adapters.base import Adapter
from chalicelib.providers.models import Provider


def _discover() -> dict[str, Adapter]:
    found: dict[str, Adapter] = {}
    for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{package.__name__}.{module_info.name}")
        adapter = getattr(module, "ADAPTER", None)
        if isinstance(adapter, Adapter):
            if adapter.provider_key in found:
                raise RuntimeError(f"two adapters claim provider key {adapter.provider_key!r}")
            found[adapter.provider_key] = adapter
    return found


@functools.cache
def adapters() -> dict[str, Adapter]:
    """Every built-in adapter by provider key."""
    return _discover()


def adapter_for(provider: Provider) -> Adapter:
    """A tenant's own provider is an HTTP API we know only by base URL and auth, which generic HTTP covers."""
    if provider.built_in and provider.key in adapters():
        return adapters()[provider.key]
    return generic_http.ADAPTER
