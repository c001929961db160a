"""Every place a handler can die: run it once per crash point (``chalicelib.core.faults.crash_after``)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator

from chalicelib.core.faults import LambdaCrashed, crash_after


def crash_points(
    fn: Callable[[], object], *, services: Collection[str] | None = None, limit: int = 200
) -> Iterator[int]:
    """Call ``fn`` crashing after its 1st, 2nd, ... AWS call; yield each crash index once the crash happened.

    The caller's loop body runs after the crash, disarmed, so it can check an
    invariant or retry ``fn`` (as SQS redelivery would). Ends when ``fn``
    completes without reaching the crash point, i.e. every point was tried.
    """
    for n in range(1, limit + 1):
        try:
            with crash_after(n, services=services):
                fn()
        except LambdaCrashed:
            yield n
        else:
            return
    raise AssertionError(f"fn still crashed after {limit} AWS calls; does it ever finish?")


def each_crash(operation: Callable[[], object], check: Callable[[int], None]) -> int:
    """Kill ``operation`` after each of its AWS calls in turn, ``check`` the invariant after each; the crash count."""
    crashes = 0
    for crash in crash_points(operation):
        check(crash)
        crashes += 1
    return crashes
