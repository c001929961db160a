"""Signing an outbound message two ways: Standard Webhooks v1 and 003's ``X-Signature-256``.

Standard Webhooks signs ``<webhook-id>.<webhook-timestamp>.<body>`` with the
base64-decoded secret, once per active secret, so receivers keep verifying
through a rotation. ``X-Signature-256`` is ``sha256=<hex>`` of HMAC-SHA256 over
the body alone, keyed with the current secret string exactly as the receiver
was given it (``whsec_...``), as 003 describes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from chalicelib.outbound.secrets import key_bytes


def standard_signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def x_signature_256(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def headers(message_id: str, timestamp: int, body: bytes, secrets: list[str]) -> dict[str, str]:
    """``secrets`` is newest last; the newest one also signs ``X-Signature-256``."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(standard_signature(s, message_id, timestamp, body) for s in secrets),
        "X-Signature-256": x_signature_256(secrets[-1], body),
    }
