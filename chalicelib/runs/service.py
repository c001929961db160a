"""Reading runs for a tenant."""

from __future__ import annotations

from chalicelib.core.errors import NotFound
from chalicelib.runs import store
from chalicelib.runs.models import Run


def get(tenant_id: str, run_id: str) -> Run:
    run = store.get(tenant_id, run_id)
    if run is None:
        raise NotFound(f"Run '{run_id}' was not found.")
    return run
