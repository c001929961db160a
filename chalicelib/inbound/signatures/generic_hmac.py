"""A generic HMAC of the raw body, shaped by the provider's ``webhookSignature`` settings.

``header`` names where it arrives, ``algorithm`` is sha1/sha256/sha512,
``encoding`` hex or base64, and ``prefix`` (e.g. ``sha256=``) is stripped first.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from chalicelib.inbound.signatures.base import DIGESTS, SignatureRejected, SignedRequest, any_equal, mac
from chalicelib.providers.models import WebhookSignature


def verify(request: SignedRequest, settings: WebhookSignature, secrets: Sequence[str]) -> dict[str, Any] | None:
    header = request.require(settings.header or "X-Signature")
    algorithm = settings.algorithm if settings.algorithm in DIGESTS else "sha256"
    prefix = settings.prefix or ""
    if not header.startswith(prefix):
        raise SignatureRejected(f"signature does not start with {prefix!r}")
    given = header[len(prefix) :].strip()
    hexadecimal = (settings.encoding or "hex") == "hex"
    candidate = given.lower().encode() if hexadecimal else given.encode()
    for secret in secrets:
        digest = mac(secret.encode(), request.body, algorithm or "sha256")
        expected = digest.hex().encode() if hexadecimal else base64.b64encode(digest)
        if any_equal(expected, [candidate]):
            return None
    raise SignatureRejected("signature does not match")
