"""Slack: ``X-Slack-Signature: v0=<hex HMAC-SHA256(secret, "v0:<ts>:<body>")>``.

https://api.slack.com/authentication/verifying-requests-from-slack
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

VERSION = "v0"


def verify(request: SignedRequest, settings: WebhookSignature, secrets: Sequence[str]) -> dict[str, Any] | None:
    header = request.require(settings.header or "X-Slack-Signature")
    timestamp = request.require("X-Slack-Request-Timestamp")
    version, _, given = header.partition("=")
    if version != VERSION or not given:
        raise SignatureRejected("X-Slack-Signature is not v0=<hex>")
    check_timestamp(timestamp, request.now, "X-Slack-Request-Timestamp")
    base = f"{VERSION}:{timestamp}:".encode() + request.body
    if not any(any_equal(mac(secret.encode(), base).hex().encode(), [given.lower().encode()]) for secret in secrets):
        raise SignatureRejected("signature does not match")
    return None
