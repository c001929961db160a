"""Signing SNS messages as AWS does, with a self-made key and certificate served on 127.0.0.1.

The server also answers ``SubscribeURL`` GETs and records them, so a test sees
the subscription being confirmed. Tests point ``SNS_HOST_PATTERN`` at it.
"""

from __future__ import annotations

import base64
import datetime
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from chalicelib.inbound.signatures.aws_sns import string_to_sign

TOPIC = "arn:aws:sns:us-east-1:123456789012:ses-events"


def _self_signed(key: rsa.RSAPrivateKey) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)


@dataclass
class SnsSigner:
    url: str = ""
    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    fetched: list[str] = field(default_factory=list)

    def message(self, kind: str, body: str, *, version: str = "2", topic: str = TOPIC, **extra: Any) -> dict[str, Any]:
        message: dict[str, Any] = {
            "Type": kind,
            "MessageId": str(uuid.uuid4()),
            "TopicArn": topic,
            "Message": body,
            "Timestamp": "2026-01-01T00:00:00.000Z",
            "SignatureVersion": version,
            "SigningCertURL": f"{self.url}/SimpleNotificationService-test.pem",
            **extra,
        }
        if kind == "SubscriptionConfirmation":
            message |= {"Token": "tok-1", "SubscribeURL": f"{self.url}/?Action=ConfirmSubscription&Token=tok-1"}
        digest = hashes.SHA1() if version == "1" else hashes.SHA256()
        signature = self.key.sign(string_to_sign(message), padding.PKCS1v15(), digest)
        message["Signature"] = base64.b64encode(signature).decode()
        return message


@contextmanager
def serve_sns() -> Iterator[SnsSigner]:
    signer = SnsSigner()
    pem = _self_signed(signer.key)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            signer.fetched.append(self.path)
            body = pem if self.path.endswith(".pem") else b"<ConfirmSubscriptionResponse/>"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    signer.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield signer
    finally:
        server.shutdown()
        server.server_close()
