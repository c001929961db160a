"""Standard Webhooks (as Svix-powered vendors send them), written from the specification.

Signed content is ``"<webhook-id>.<webhook-timestamp>.<body>"``; the key is the
secret after ``whsec_``, base64-decoded; ``webhook-signature`` holds one or more
space-separated ``v1,<base64 HMAC-SHA256>`` entries. Svix's older ``svix-*``
header names are read too.
https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from chalicelib.inbound.signatures.base import (
    SignatureRejected,
    SignedRequest,
    any_equal,
    b64decode,
    check_timestamp,
    mac,
)
from chalicelib.providers.models import WebhookSignature

SECRET_PREFIX = "whsec_"


def secret_key(secret: str) -> bytes | None:
    """The HMAC key a ``whsec_`` secret stands for, or ``None`` if it is not base64."""
    return b64decode(secret.removeprefix(SECRET_PREFIX))


def _header(request: SignedRequest, suffix: str) -> str:
    value = request.header(f"webhook-{suffix}") or request.header(f"svix-{suffix}")
    if not value:
        raise SignatureRejected(f"missing webhook-{suffix} header")
    return value


def verify(request: SignedRequest, settings: WebhookSignature, secrets: Sequence[str]) -> dict[str, Any] | None:
    message_id = _header(request, "id")
    timestamp = _header(request, "timestamp")
    header = _header(request, "signature")
    candidates = [
        value.encode() for version, _, value in (entry.partition(",") for entry in header.split()) if version == "v1"
    ]
    if not candidates:
        raise SignatureRejected("webhook-signature has no v1 entry")
    check_timestamp(timestamp, request.now, "webhook-timestamp")
    signed = f"{message_id}.{timestamp}.".encode() + request.body
    for secret in secrets:
        key = secret_key(secret)
        if key is not None and any_equal(base64.b64encode(mac(key, signed)), candidates):
            return None
    raise SignatureRejected("signature does not match")
