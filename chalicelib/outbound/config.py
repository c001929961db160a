"""Outbound delivery settings, read once per process like the core settings.

Kept apart from ``chalicelib.core.config`` because only the dispatcher and the
subscription service read them; tests shrink the retry schedule and timeouts
through the environment and call ``get_outbound_settings.cache_clear()``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

DEFAULT_SCHEDULE = "5,300,1800,7200,18000,36000,36000"


@dataclass(frozen=True)
class OutboundSettings:
    retry_schedule: tuple[float, ...]
    retry_jitter: float
    timeout_seconds: float
    disable_after_seconds: float
    secret_overlap_seconds: int
    subscription_cache_seconds: float
    secret_cache_seconds: float
    attempt_retention_days: int
    max_concurrency: int

    @property
    def max_attempts(self) -> int:
        """The first try plus one per scheduled retry."""
        return len(self.retry_schedule) + 1


def _schedule(raw: str) -> tuple[float, ...]:
    values = tuple(float(part) for part in raw.split(",") if part.strip())
    if not values or any(value < 0 for value in values):
        raise ValueError("WEBHOOK_RETRY_SCHEDULE must list non-negative seconds")
    return values


@lru_cache(maxsize=1)
def get_outbound_settings() -> OutboundSettings:
    env = os.environ.get
    return OutboundSettings(
        retry_schedule=_schedule(env("WEBHOOK_RETRY_SCHEDULE", DEFAULT_SCHEDULE)),
        retry_jitter=float(env("WEBHOOK_RETRY_JITTER", "0.2")),
        timeout_seconds=float(env("WEBHOOK_TIMEOUT_SECONDS", "15")),
        disable_after_seconds=float(env("WEBHOOK_DISABLE_AFTER_SECONDS", str(5 * 24 * 3600))),
        secret_overlap_seconds=int(env("WEBHOOK_SECRET_OVERLAP_SECONDS", str(24 * 3600))),
        subscription_cache_seconds=float(env("WEBHOOK_SUBSCRIPTION_CACHE_SECONDS", "5")),
        secret_cache_seconds=float(env("WEBHOOK_SECRET_CACHE_SECONDS", "300")),
        attempt_retention_days=int(env("WEBHOOK_ATTEMPT_RETENTION_DAYS", "30")),
        max_concurrency=int(env("WEBHOOK_MAX_CONCURRENCY", "10")),
    )
