"""Adapter shapes that are data, not behaviour: what a run or a catalog listing stores and returns.

Kept apart from ``adapters.base`` so that a model that embeds them (``runs.models``) imports no
adapter, HTTP or auth code: every run function reads runs before it runs anything (docs/performance.md).
"""

from __future__ import annotations

from typing import Any

from chalicelib.core.models import WireModel


class OperationSpec(WireModel):
    """One catalog entry as ``GET /integrations/connections/{id}/operations`` lists it."""

    id: str
    name: str
    description: str
    parameters: dict[str, Any]
    result_schema: dict[str, Any]
    idempotent: bool
