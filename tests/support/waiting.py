"""Waiting for asynchronous work (SQS handlers, schedules) in end-to-end tests, without fixed sleeps.

The limit is generous on purpose: a wait ends as soon as its work is done, and a
loaded CI machine (two test workers, one of them running the chaos test's own
runtime) can take many times the usual second or two to carry a message through
three pollers. Tests do not assert on wall-clock times; a wait that runs out says
what it saw, through ``explain``, so the failure can be read without a rerun.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

WAIT_SECONDS = 120.0


def poll(
    check: Callable[[], Any],
    what: str,
    seconds: float = WAIT_SECONDS,
    explain: Callable[[], str] | None = None,
    interval: float = 0.2,
) -> Any:
    """``check()``'s first truthy value; fail the test if none comes within ``seconds``.

    Every wait in the tests comes through here (``check`` may itself fail the test, e.g. when the process
    it waits for has exited), so one limit governs them all; ``interval`` is how often ``check`` is asked.
    """
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(interval)
    seen = f"\n{explain()}" if explain else ""
    pytest.fail(f"{what} did not happen within {seconds:g}s{seen}")
