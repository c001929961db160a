"""Twilio: ``X-Twilio-Signature`` = base64 HMAC-SHA1(auth token, full URL + sorted form fields).

Twilio signs the URL it was given, so the request carries the URL as the
platform published it (the ingest base URL + path + query); the connection's
webhook secret is the Twilio auth token.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode

from chalicelib.inbound.signatures.base import SignatureRejected, SignedRequest, any_equal, b64decode, mac
from chalicelib.providers.models import WebhookSignature


def status_callback_url(webhook_url: str, run_id: str | None) -> str:
    """The URL the platform gives Twilio for a run's status callbacks, and so the URL Twilio signs."""
    return f"{webhook_url}?{urlencode({'runId': run_id})}" if run_id else webhook_url


def signed_text(url: str, body: bytes) -> bytes:
    fields = sorted(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))
    return (url + "".join(name + value for name, value in fields)).encode()


def sign(secret: str, url: str, body: bytes) -> str:
    return base64.b64encode(mac(secret.encode(), signed_text(url, body), "sha1")).decode()


def verify(request: SignedRequest, settings: WebhookSignature, secrets: Sequence[str]) -> dict[str, Any] | None:
    given = b64decode(request.require(settings.header or "X-Twilio-Signature"))
    if given is None:
        raise SignatureRejected("X-Twilio-Signature is not base64")
    if not request.url:
        raise SignatureRejected("the platform's ingest URL is unknown (INGEST_BASE_URL, PUBLIC_BASE_URL)")
    text = signed_text(request.url, request.body)
    if not any_equal(given, (mac(s.encode(), text, "sha1") for s in secrets)):
        raise SignatureRejected("X-Twilio-Signature does not match")
    return None
