"""Inbound signature verification, one module per scheme family, chosen by the provider.

``verify`` returns the claims when the signature itself carries the payload (a
JWS body) and ``None`` otherwise; any failure is ``SignatureRejected``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from chalicelib.inbound.signatures import (
    aws_sns,
    generic_hmac,
    github,
    jws,
    shopify,
    slack,
    standard_webhooks,
    stripe,
    twilio,
)
from chalicelib.inbound.signatures.base import SignatureRejected, SignedRequest
from chalicelib.providers.models import WebhookSignature

Verifier = Callable[[SignedRequest, WebhookSignature, Sequence[str]], "dict[str, Any] | None"]

VERIFIERS: dict[str, Verifier] = {
    "github": github.verify,
    "stripe": stripe.verify,
    "slack": slack.verify,
    "shopify": shopify.verify,
    "standard-webhooks": standard_webhooks.verify,
    "hmac": generic_hmac.verify,
    "jws": jws.verify,
    "twilio": twilio.verify,
    "aws-sns": aws_sns.verify,
}
# Schemes whose proof is the sender's own key pair, not a secret shared with the connection.
KEYLESS = {"aws-sns"}


def verify(request: SignedRequest, settings: WebhookSignature, secrets: Sequence[str]) -> dict[str, Any] | None:
    verifier = VERIFIERS.get(settings.scheme)
    if verifier is None:
        raise SignatureRejected(f"the provider's scheme '{settings.scheme}' does not sign webhooks")
    keyless = settings.scheme in KEYLESS or (settings.scheme == "jws" and settings.algorithm in {"RS256", "ES256"})
    if not secrets and not keyless:
        raise SignatureRejected("the connection has no webhook secret")
    return verifier(request, settings, secrets)


__all__ = ["VERIFIERS", "SignatureRejected", "SignedRequest", "verify"]
