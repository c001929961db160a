"""JWS compact serialization: HS256 with the shared secret, RS256/ES256 against the provider's JWKS.

Two placements. With ``header`` set, the token travels in that header and must
carry ``request_body_sha256`` (hex SHA-256 of the raw body), the way Plaid
signs its webhooks, so the token cannot be replayed over another body. Without
a header the whole body is the token and its claims become the payload. Only
the provider's configured algorithm is accepted (no ``alg`` confusion), and an
``iat`` claim must fall within the tolerance.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from chalicelib.core.errors import ServiceUnavailable
from chalicelib.core.urls import check_url
from chalicelib.inbound.signatures.base import TOLERANCE_SECONDS, SignatureRejected, SignedRequest
from chalicelib.providers.models import WebhookSignature

if TYPE_CHECKING:
    from jwt import PyJWKClient

_jwks_clients: dict[str, PyJWKClient] = {}
_lock = threading.Lock()


def _jwks_client(url: str) -> PyJWKClient:
    with _lock:
        client = _jwks_clients.get(url)
        if client is None:
            from jwt import PyJWKClient

            check_url(url, "webhookSignature.jwksUrl")
            client = PyJWKClient(url, cache_keys=True, lifespan=300, timeout=5)
            _jwks_clients[url] = client
    return client


def _keys(token: str, settings: WebhookSignature, secrets: Sequence[str]) -> list[Any]:
    if settings.algorithm == "HS256":
        return [secret.encode() for secret in secrets]
    if settings.jwks_url is None:
        raise SignatureRejected(f"{settings.algorithm} needs the provider's jwksUrl")
    import jwt

    try:
        return [_jwks_client(str(settings.jwks_url)).get_signing_key_from_jwt(token).key]
    except jwt.PyJWKClientConnectionError as exc:
        raise ServiceUnavailable("The provider's signing keys could not be fetched; retry later.") from exc
    except jwt.PyJWTError as exc:
        raise SignatureRejected("no signing key matches the token") from exc


def _decode(token: str, settings: WebhookSignature, secrets: Sequence[str], now: float) -> dict[str, Any]:
    import jwt

    algorithm = settings.algorithm if settings.algorithm in {"HS256", "RS256", "ES256"} else "HS256"
    settings = settings.model_copy(update={"algorithm": algorithm})
    for key in _keys(token, settings, secrets):
        try:
            claims: dict[str, Any] = jwt.decode(
                token, key, algorithms=[algorithm], options={"verify_aud": False, "verify_iat": False}
            )
        except jwt.InvalidSignatureError:
            continue
        except jwt.PyJWTError as exc:
            raise SignatureRejected(f"token rejected: {type(exc).__name__}") from exc
        issued = claims.get("iat")
        if issued is not None and (not isinstance(issued, int | float) or abs(now - issued) > TOLERANCE_SECONDS):
            raise SignatureRejected(f"iat is outside the {TOLERANCE_SECONDS} s tolerance")
        return claims
    raise SignatureRejected("signature does not match")


def verify(request: SignedRequest, settings: WebhookSignature, secrets: Sequence[str]) -> dict[str, Any] | None:
    if settings.header:
        token = request.require(settings.header).removeprefix("Bearer ").strip()
        claims = _decode(token, settings, secrets, request.now)
        body_hash = claims.get("request_body_sha256")
        expected = hashlib.sha256(request.body).hexdigest()
        if not isinstance(body_hash, str) or not hmac.compare_digest(body_hash.lower(), expected):
            raise SignatureRejected("request_body_sha256 does not match the body")
        return None
    try:
        token = request.body.decode("ascii").strip()
    except UnicodeDecodeError as exc:
        raise SignatureRejected("the body is not a compact JWS") from exc
    return _decode(token, settings, secrets, request.now)
