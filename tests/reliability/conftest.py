"""Reliability tests share the outbound package's fixtures; ``http_api`` comes from the root conftest."""

from __future__ import annotations

from tests.outbound.conftest import driver, outbound_env

__all__ = ["driver", "outbound_env"]  # the outbound package's fixtures, for the secret scan's workflow
