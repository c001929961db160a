"""What every signature scheme shares: the request as signed, rejection, constant-time checks."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# Every vendor that signs a timestamp allows five minutes of clock skew and replay window.
TOLERANCE_SECONDS = 300

DIGESTS: dict[str, Any] = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}


class SignatureRejected(Exception):
    """The delivery is not authentic; ``reason`` is logged, never the body or the signature."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class SignedRequest:
    """The delivery exactly as received: bytes untouched, header names case-folded once."""

    headers: Mapping[str, str]
    body: bytes
    now: float
    url: str = ""  # as the sender addressed it, for schemes that sign the URL (Twilio)
    _lowered: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_lowered", {k.lower(): v for k, v in self.headers.items()})

    def header(self, name: str) -> str | None:
        value = self._lowered.get(name.lower())
        return value.strip() if value is not None else None

    def require(self, name: str) -> str:
        value = self.header(name)
        if not value:
            raise SignatureRejected(f"missing {name} header")
        return value


def mac(key: bytes, message: bytes, algorithm: str = "sha256") -> bytes:
    return hmac.new(key, message, DIGESTS[algorithm]).digest()


def any_equal(expected: bytes, candidates: Iterable[bytes]) -> bool:
    """Constant-time per candidate; stopping at a match reveals only that one matched."""
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)


def check_timestamp(raw: str, now: float, name: str) -> int:
    try:
        stamp = int(raw)
    except ValueError as exc:
        raise SignatureRejected(f"{name} is not a unix timestamp") from exc
    if abs(now - stamp) > TOLERANCE_SECONDS:
        raise SignatureRejected(f"{name} is outside the {TOLERANCE_SECONDS} s tolerance")
    return stamp


def b64decode(value: str) -> bytes | None:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
