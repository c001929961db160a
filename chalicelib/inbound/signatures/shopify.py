"""Shopify: ``X-Shopify-Hmac-Sha256: <base64 HMAC-SHA256(secret, body)>``.

https://shopify.dev/docs/apps/build/webhooks/subscribe/https#step-5-verify-the-webhook
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from chalicelib.inbound.signatures.base import SignatureRejected, SignedRequest, any_equal, mac
from chalicelib.providers.models import WebhookSignature


def verify(request: SignedRequest, settings: WebhookSignature, secrets: Sequence[str]) -> dict[str, Any] | None:
    given = request.require(settings.header or "X-Shopify-Hmac-Sha256").encode()
    for secret in secrets:
        if any_equal(base64.b64encode(mac(secret.encode(), request.body)), [given]):
            return None
    raise SignatureRejected("signature does not match")
