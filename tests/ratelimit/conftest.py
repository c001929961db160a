"""The inbound package's ``connect`` fixture, for the per-connection limit."""

from __future__ import annotations

from tests.inbound.conftest import connect

__all__ = ["connect"]
