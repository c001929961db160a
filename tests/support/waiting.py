"""Waiting for asynchronous work (SQS handlers, schedules) in end-to-end tests, without fixed sleeps."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest


def poll(check: Callable[[], Any], what: str, seconds: float = 30.0) -> Any:
    """``check()``'s first truthy value; fail the test if none comes within ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    pytest.fail(f"{what} did not happen within {seconds:g}s")
