"""Changing stage settings for one test: settings are cached per process, as in Lambda."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from chalicelib.core.config import get_settings


@contextmanager
def settings_env(monkeypatch: pytest.MonkeyPatch, **env: str) -> Iterator[None]:
    """Apply ``env``, re-read the settings, and restore both afterwards."""
    try:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        yield
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
