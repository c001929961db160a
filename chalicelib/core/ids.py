"""Type-prefixed identifiers (``conn-``, ``run-``, ...) as the API conventions require."""

from __future__ import annotations

import secrets


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(6)}"
