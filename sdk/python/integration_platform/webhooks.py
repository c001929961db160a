"""Verifying what the platform sends to a subscription's endpoint (docs/webhooks-outbound.md).

Every delivery carries two signatures:

- Standard Webhooks: ``webhook-signature`` holds ``v1,<base64>`` per active
  secret (space separated) of HMAC-SHA256 over ``<webhook-id>.<webhook-timestamp>.<body>``,
  keyed with the base64 part of ``whsec_...`` decoded. It covers the timestamp,
  so a replay outside the tolerance is refused.
- ``X-Signature-256: sha256=<hex>``: HMAC-SHA256 of the body alone, keyed with the
  newest secret string as given (``whsec_...``). It does not cover the timestamp,
  so ``verify_x_signature_256`` also checks the (unsigned) ``webhook-timestamp``.

A subscription created with ``signatureScheme: "v1a"`` is signed with ed25519
instead: ``webhook-signature`` holds ``v1a,<base64>`` per active private key
over the same content, and there is no ``X-Signature-256``. ``verify_v1a``
checks it with the subscription's public key(s) (``whpk_...``, from
``GET /webhooks/subscriptions/{id}/public-key``); it needs ``cryptography``
(``pip install integration-platform-sdk[v1a]``), imported only when called.

Pass every secret or key you still trust (newest last) while a rotation is under way.
Verify the raw body bytes, before any JSON parsing. The body is the event
(``{id, type, timestamp, data}``) unless the subscription has a ``transform``,
in which case it is whatever JSON the transform made of it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping, Sequence
from typing import Any

from integration_platform import jsonread

PREFIX = "whsec_"
PUBLIC_PREFIX = "whpk_"
DEFAULT_TOLERANCE = 300.0


class WebhookVerificationError(Exception):
    """The delivery is not from the platform, was altered, or is too old (or too far in the future)."""


def _secrets(secret: str | Sequence[str]) -> list[str]:
    return [secret] if isinstance(secret, str) else list(secret)


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    raise WebhookVerificationError(f"missing header {name}")


def _key(secret: str) -> bytes:
    raw = secret[len(PREFIX) :] if secret.startswith(PREFIX) else secret
    try:
        return base64.b64decode(raw + "==", validate=False)
    except binascii.Error as error:
        raise WebhookVerificationError("the signing secret is not a whsec_ secret") from error


def _check_timestamp(headers: Mapping[str, str], tolerance: float, now: float | None) -> None:
    stamp = _header(headers, "webhook-timestamp")
    if not stamp.isdigit():
        raise WebhookVerificationError("webhook-timestamp is not epoch seconds")
    skew = abs((time.time() if now is None else now) - int(stamp))
    if skew > tolerance:
        raise WebhookVerificationError(f"webhook-timestamp is {skew:.0f}s away from now (tolerance {tolerance:g}s)")


def _event(body: bytes) -> Any:
    try:
        return jsonread.read(body)
    except ValueError as error:
        raise WebhookVerificationError("the body is not JSON") from error


def new_secret() -> str:
    """A fresh ``whsec_`` signing secret (24 random bytes), as ``ipctl listen`` prints for its session."""
    import secrets

    return PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def sign(body: bytes, message_id: str, timestamp: int, secret: str) -> str:
    """The ``webhook-signature`` value (``v1,<base64>``) that ``verify`` accepts for this body and secret."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(_key(secret), signed, hashlib.sha256).digest()).decode()


def sign_x_signature_256(body: bytes, secret: str) -> str:
    """The ``X-Signature-256`` value (``sha256=<hex>``) the platform also sends: HMAC of the body, keyed as given."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(
    body: bytes,
    headers: Mapping[str, str],
    secret: str | Sequence[str],
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> Any:
    """Check the Standard Webhooks signature and timestamp; return the event (id, type, timestamp, data).

    Dedupe on the event's ``id`` (also ``webhook-id``): retries and redeliveries repeat it.
    """
    _check_timestamp(headers, tolerance, now)
    message_id, stamp = _header(headers, "webhook-id"), _header(headers, "webhook-timestamp")
    signed = f"{message_id}.{stamp}.".encode() + body
    expected = [
        base64.b64encode(hmac.new(_key(key), signed, hashlib.sha256).digest()).decode() for key in _secrets(secret)
    ]
    for candidate in _header(headers, "webhook-signature").split():
        version, _, value = candidate.partition(",")
        if version == "v1" and any(hmac.compare_digest(value, digest) for digest in expected):
            return _event(body)
    raise WebhookVerificationError("no webhook-signature matches the secret")


def verify_x_signature_256(
    body: bytes,
    headers: Mapping[str, str],
    secret: str | Sequence[str],
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> Any:
    """Check ``X-Signature-256`` (003's scheme) and the freshness of ``webhook-timestamp``; return the event."""
    _check_timestamp(headers, tolerance, now)
    given = _header(headers, "X-Signature-256")
    for key in _secrets(secret):
        expected = "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()
        if hmac.compare_digest(given, expected):
            return _event(body)
    raise WebhookVerificationError("X-Signature-256 does not match the secret")


def verify_v1a(
    body: bytes,
    headers: Mapping[str, str],
    public_key: str | Sequence[str],
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> Any:
    """Check a ``v1a`` (ed25519) signature against the ``whpk_`` key(s) and the timestamp; return the body."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    _check_timestamp(headers, tolerance, now)
    message_id, stamp = _header(headers, "webhook-id"), _header(headers, "webhook-timestamp")
    signed = f"{message_id}.{stamp}.".encode() + body
    keys = []
    for text in _secrets(public_key):
        try:
            keys.append(Ed25519PublicKey.from_public_bytes(base64.b64decode(text.removeprefix(PUBLIC_PREFIX))))
        except (binascii.Error, ValueError) as error:
            raise WebhookVerificationError("the public key is not a whpk_ ed25519 key") from error
    for candidate in _header(headers, "webhook-signature").split():
        version, _, value = candidate.partition(",")
        if version != "v1a":
            continue
        try:
            signature = base64.b64decode(value, validate=True)
        except binascii.Error:
            continue
        for key in keys:
            try:
                key.verify(signature, signed)
            except InvalidSignature:
                continue
            return _event(body)
    raise WebhookVerificationError("no v1a webhook-signature matches the public key")
