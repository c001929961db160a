"""GitHub: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>``.

https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chalicelib.inbound.signatures.base import SignatureRejected, SignedRequest, any_equal, mac
from chalicelib.providers.models import WebhookSignature

PREFIX = "sha256="


def verify(request: SignedRequest, settings: WebhookSignature, secrets: Sequence[str]) -> dict[str, Any] | None:
    header = request.require(settings.header or "X-Hub-Signature-256")
    if not header.startswith(PREFIX):
        raise SignatureRejected("signature header does not start with sha256=")
    given = header[len(PREFIX) :].lower().encode()
    for secret in secrets:
        if any_equal(mac(secret.encode(), request.body).hex().encode(), [given]):
            return None
    raise SignatureRejected("signature does not match")
