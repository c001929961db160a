"""Type-prefixed identifiers (``conn-``, ``run-``, ...) as the API conventions require."""

from __future__ import annotations

import hashlib
import secrets


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(6)}"


def derived_id(prefix: str, *material: str) -> str:
    """An id fixed by ``material`` (a tenant, a route and an Idempotency-Key, say): the same material, the same id.

    The parts are joined by a newline, which none of them contains (keys are printable), so two different
    materials never join to the same text.
    """
    return f"{prefix}-" + hashlib.sha256("\n".join(material).encode()).hexdigest()[:20]
