"""Signing an outbound message two ways: Standard Webhooks v1 and 003's ``X-Signature-256``.

Standard Webhooks signs ``<webhook-id>.<webhook-timestamp>.<body>`` with the
base64-decoded secret, once per active secret, so receivers keep verifying
through a rotation. ``X-Signature-256`` is ``sha256=<hex>`` of HMAC-SHA256 over
the body alone, keyed with the current secret string exactly as the receiver
was given it (``whsec_...``), as 003 describes.

A ``v1a`` subscription signs the same content with ed25519 (``v1a,<base64>``),
once per active private key; a key's ``whsk_`` prefix says it is one, and
``X-Signature-256`` (a shared-secret HMAC) is not sent for it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from chalicelib.outbound.secrets import PRIVATE_PREFIX, key_bytes, private_key


def standard_signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def asymmetric_signature(key: str, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1a," + base64.b64encode(private_key(key).sign(signed)).decode()


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """One ``webhook-signature`` entry: v1a for a ``whsk_`` key, v1 for a shared secret."""
    if secret.startswith(PRIVATE_PREFIX):
        return asymmetric_signature(secret, message_id, timestamp, body)
    return standard_signature(secret, message_id, timestamp, body)


def x_signature_256(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def headers(message_id: str, timestamp: int, body: bytes, secrets: list[str]) -> dict[str, str]:
    """``secrets`` is newest last; the newest shared secret also signs ``X-Signature-256``."""
    signed = {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signature(s, message_id, timestamp, body) for s in secrets),
    }
    if not secrets[-1].startswith(PRIVATE_PREFIX):
        signed["X-Signature-256"] = x_signature_256(secrets[-1], body)
    return signed
