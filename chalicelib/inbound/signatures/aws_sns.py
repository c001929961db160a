"""Amazon SNS message signatures, verified as AWS documents them.

The body is the SNS JSON message. The string to sign is ``Name\\nValue\\n`` for
a fixed list of fields per ``Type`` (``Subject`` only when present);
``SignatureVersion`` 1 is RSA PKCS#1 v1.5 over SHA-1, 2 over SHA-256. The
certificate comes from ``SigningCertURL``, which must be HTTPS on an
``sns.<region>.amazonaws.com`` host (``SNS_HOST_PATTERN``; tests point it
at a local server), fetched through the platform's HTTP transport and cached
per process by URL. The verified message is returned as the claims; which
topics a connection accepts is checked by the caller against its configuration.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import threading
from collections.abc import Sequence
from typing import Any

from chalicelib.core import http, jsontext
from chalicelib.core.urls import UnsafeUrl
from chalicelib.inbound.signatures.base import SignatureRejected, SignedRequest
from chalicelib.providers.models import WebhookSignature

DEFAULT_HOST_PATTERN = r"^https://sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/"
SIGNED_FIELDS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"),
    "UnsubscribeConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"),
}
_certificates: dict[str, Any] = {}
_lock = threading.Lock()


def trusted_aws_url(url: str) -> bool:
    """An URL on an SNS host (``SNS_HOST_PATTERN`` overrides the pattern in tests only)."""
    return re.match(os.environ.get("SNS_HOST_PATTERN") or DEFAULT_HOST_PATTERN, url) is not None


def string_to_sign(message: dict[str, Any]) -> bytes:
    fields = SIGNED_FIELDS.get(str(message.get("Type")))
    if fields is None:
        raise SignatureRejected("unknown SNS message Type")
    parts = []
    for name in fields:
        value = message.get(name)
        if value is None and name == "Subject":
            continue
        if not isinstance(value, str):
            raise SignatureRejected(f"SNS message lacks {name}")
        parts.append(f"{name}\n{value}\n")
    return "".join(parts).encode()


def _certificate(url: str) -> Any:
    with _lock:
        cached = _certificates.get(url)
    if cached is not None:
        return cached
    from cryptography import x509

    try:
        fetched = http.exchange(
            "GET", url, field="SigningCertURL", body=None, headers={}, connect_timeout=3, read_timeout=5, max_body=65536
        )
    except (UnsafeUrl, http.TransportError) as exc:
        raise SignatureRejected("the SNS signing certificate could not be fetched") from exc
    if fetched.status != 200 or fetched.truncated:
        raise SignatureRejected(f"the SNS signing certificate answered {fetched.status}")
    try:
        certificate = x509.load_pem_x509_certificate(fetched.body)
    except ValueError as exc:
        raise SignatureRejected("the SNS signing certificate is not PEM") from exc
    with _lock:
        _certificates[url] = certificate
    return certificate


def verify(request: SignedRequest, settings: WebhookSignature, secrets: Sequence[str]) -> dict[str, Any] | None:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    try:
        message = jsontext.read(request.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SignatureRejected("the SNS message is not JSON") from exc
    if not isinstance(message, dict):
        raise SignatureRejected("the SNS message is not an object")
    version = message.get("SignatureVersion")
    digest = {"1": hashes.SHA1(), "2": hashes.SHA256()}.get(str(version))
    if digest is None:
        raise SignatureRejected("unsupported SNS SignatureVersion")
    cert_url = message.get("SigningCertURL") or message.get("SigningCertUrl")
    if not isinstance(cert_url, str) or not trusted_aws_url(cert_url) or not cert_url.split("?")[0].endswith(".pem"):
        raise SignatureRejected("SigningCertURL is not an SNS certificate URL")
    try:
        signature = base64.b64decode(str(message.get("Signature", "")), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureRejected("the SNS Signature is not base64") from exc
    text = string_to_sign(message)
    key = _certificate(cert_url).public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise SignatureRejected("the SNS signing certificate has no RSA key")
    try:
        key.verify(signature, text, padding.PKCS1v15(), digest)
    except InvalidSignature as exc:
        raise SignatureRejected("the SNS signature does not match") from exc
    return message
