"""The examples run against the local runtime the e2e tests start (``python -m infra.local.runtime``)."""

from __future__ import annotations

from tests.e2e.conftest import local_runtime

__all__ = ["local_runtime"]
