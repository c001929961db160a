"""Stripe: ``Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...]`` over ``"<t>.<body>"``.

Several ``v1`` entries appear while a Stripe endpoint secret is being rolled;
any one matching is enough. The secret is used as is (``whsec_`` included).
https://docs.stripe.com/webhooks#verify-manually
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chalicelib.inbound.signatures.base import (
    SignatureRejected,
    SignedRequest,
    any_equal,
    check_timestamp,
    mac,
)
from chalicelib.providers.models import WebhookSignature


def verify(request: SignedRequest, settings: WebhookSignature, secrets: Sequence[str]) -> dict[str, Any] | None:
    header = request.require(settings.header or "Stripe-Signature")
    timestamp: str | None = None
    candidates: list[bytes] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t":
            timestamp = value
        elif name == "v1" and value:
            candidates.append(value.lower().encode())
    if timestamp is None or not candidates:
        raise SignatureRejected("Stripe-Signature lacks t= or v1=")
    signed = timestamp.encode() + b"." + request.body
    if not any(any_equal(mac(secret.encode(), signed).hex().encode(), candidates) for secret in secrets):
        raise SignatureRejected("signature does not match")
    check_timestamp(timestamp, request.now, "t")
    return None
