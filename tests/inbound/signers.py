"""Signers written from each vendor's published algorithm, independent of the verifiers under test.

GitHub: https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
Stripe: https://docs.stripe.com/webhooks#verify-manually
Slack: https://api.slack.com/authentication/verifying-requests-from-slack
Shopify: https://shopify.dev/docs/apps/build/webhooks/subscribe/https
Standard Webhooks: the ``standardwebhooks`` reference library itself signs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import UTC, datetime

from standardwebhooks import Webhook


def github(secret: str, body: bytes) -> dict[str, str]:
    digest = hmac.new(secret.encode(), msg=body, digestmod=hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": "sha256=" + digest}


def stripe(
    secret: str, body: bytes, timestamp: int | None = None, extra_secrets: tuple[str, ...] = ()
) -> dict[str, str]:
    stamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{stamp}.".encode() + body
    parts = [f"t={stamp}"]
    for key in (*extra_secrets, secret):
        parts.append("v1=" + hmac.new(key.encode(), signed, hashlib.sha256).hexdigest())
    parts.append("v0=" + "0" * 64)
    return {"Stripe-Signature": ",".join(parts)}


def slack(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    base = b"v0:" + stamp.encode() + b":" + body
    return {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest(),
    }


def shopify(secret: str, body: bytes) -> dict[str, str]:
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return {"X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode()}


def standard_webhooks(
    secret: str, body: bytes, message_id: str, timestamp: int | None = None, extra_secrets: tuple[str, ...] = ()
) -> dict[str, str]:
    stamp = int(time.time()) if timestamp is None else timestamp
    moment = datetime.fromtimestamp(stamp, UTC)
    signatures = [Webhook(key).sign(message_id, moment, body.decode()) for key in (*extra_secrets, secret)]
    return {"webhook-id": message_id, "webhook-timestamp": str(stamp), "webhook-signature": " ".join(signatures)}
