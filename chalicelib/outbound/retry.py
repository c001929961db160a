"""When to try again: the configured schedule with jitter, never before ``Retry-After``."""

from __future__ import annotations

import random

from chalicelib.outbound.config import get_outbound_settings

RETRY_AFTER_STATUSES = frozenset({429, 502, 503, 504})
MAX_RETRY_AFTER = 24 * 3600.0


def next_delay(attempt: int, status_code: int | None, retry_after: float | None) -> float | None:
    """Seconds until attempt ``attempt + 1``, or ``None`` when ``attempt`` was the last."""
    settings = get_outbound_settings()
    if attempt >= settings.max_attempts:
        return None
    base = settings.retry_schedule[attempt - 1]
    jitter = settings.retry_jitter
    delay = base * random.uniform(1 - jitter, 1 + jitter) if jitter > 0 else base
    if status_code in RETRY_AFTER_STATUSES and retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
    return delay
