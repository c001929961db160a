"""One firing of the ``inflight_sweep`` schedule: each kind's due items, each handled on its own.

Every kind pages the sparse ``inflight`` index of its table (Query per shard,
``inflightDeadline < now``, ``PAGE_SIZE`` a page, at most ``PER_SHARD`` items a
shard a firing, so one firing stays well inside the Lambda timeout; what is left
is due at the next firing). An item is re-read and changed only by a
conditional write, so a stale index entry, a concurrent worker or a second
sweeper cannot move it twice. One item's AWS error is logged and counted; the
others still run, and the next firing retries it.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from chalicelib.core import inflight
from chalicelib.core.logging import logger
from chalicelib.sweeper import rotations, runs

PAGE_SIZE = 25
PER_SHARD = 50

Handler = Callable[[dict[str, Any], float], str | None]
KINDS: tuple[tuple[str, Callable[[], str], Handler], ...] = (
    ("runs", runs.table, runs.handle),
    ("rotations", rotations.table, rotations.handle),
)


def due(table: str, now: float) -> Iterator[dict[str, Any]]:
    return inflight.due(table, now, PAGE_SIZE, PER_SHARD)


def run(now: float | None = None) -> dict[str, int]:
    """Sweep every kind once; counts of what was done, e.g. ``{"runs.requeued": 2}``."""
    moment = time.time() if now is None else now
    done: Counter[str] = Counter()
    for kind, table, handle in KINDS:
        for key in due(table(), moment):
            try:
                action = handle(key, moment)
            except Exception:
                logger.exception("sweeping an in-flight item failed", extra={"kind": kind, "key": key})
                action = "error"
            if action is not None:
                done[f"{kind}.{action}"] += 1
    if done:
        logger.info("in-flight sweep", extra={"actions": dict(done)})
    return dict(done)
