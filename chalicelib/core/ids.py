"""Type-prefixed identifiers (``conn-``, ``run-``, ...) as the API conventions require."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(6)}"


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso_now() -> str:
    return to_iso(utc_now())


def to_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
