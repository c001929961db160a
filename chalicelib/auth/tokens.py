"""Bearer JWT validation against the issuer's JWKS (Cognito, Auth0, Okta, or the dev issuer).

PyJWT and its crypto backend are imported on first use so that importing the
app stays cheap; the JWKS client is kept per process and caches the key set.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from chalicelib.auth.principal import Principal
from chalicelib.core.config import get_settings
from chalicelib.core.errors import AuthenticationFailed
from chalicelib.core.platform import is_tenant_id

if TYPE_CHECKING:
    from jwt import PyJWKClient

_jwks_clients: dict[str, PyJWKClient] = {}
_lock = threading.Lock()
ALGORITHMS = ["RS256", "ES256"]


def _jwks_client(url: str) -> PyJWKClient:
    client = _jwks_clients.get(url)
    if client is None:
        from jwt import PyJWKClient

        with _lock:
            client = _jwks_clients.setdefault(url, PyJWKClient(url, cache_keys=True, lifespan=300, timeout=5))
    return client


def _scopes(claims: dict[str, Any]) -> frozenset[str]:
    """OAuth2 issuers use ``scope`` (space-separated), Okta and Entra ``scp`` (list or string); read both."""
    found: set[str] = set()
    for name in ("scope", "scp"):
        raw: Any = claims.get(name)
        if isinstance(raw, str):
            found.update(raw.split())
        elif isinstance(raw, list):
            found.update(str(s) for s in raw)
    return frozenset(found)


def principal_from_bearer(authorization: str | None) -> Principal:
    if not authorization:
        raise AuthenticationFailed("A bearer token is required.")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationFailed("The Authorization header must be 'Bearer <token>'.")
    settings = get_settings()
    if not settings.jwks_url or not settings.jwt_issuer:
        raise AuthenticationFailed("Token validation is not configured for this stage.")
    import jwt

    try:
        signing_key = _jwks_client(settings.jwks_url).get_signing_key_from_jwt(token.strip())
        claims: dict[str, Any] = jwt.decode(
            token.strip(),
            key=signing_key.key,
            algorithms=ALGORITHMS,
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": ["exp", "iss", "aud"]},
        )
    except jwt.PyJWKClientConnectionError as exc:
        raise AuthenticationFailed("The token issuer's keys could not be fetched.") from exc
    except jwt.PyJWTError as exc:
        raise AuthenticationFailed(_why_invalid(exc)) from exc
    tenant = claims.get(settings.tenant_claim)
    if not isinstance(tenant, str) or not tenant:
        raise AuthenticationFailed(f"The token carries no '{settings.tenant_claim}' claim.")
    if not is_tenant_id(tenant):
        raise AuthenticationFailed(
            f"The token's '{settings.tenant_claim}' claim is not a tenant id (it starts with a dot)."
        )
    return Principal(tenant_id=tenant, subject=str(claims.get("sub", "")), scopes=_scopes(claims))


def _why_invalid(error: Exception) -> str:
    """What the caller can act on, never the decoder's internals (which echo parts of the token)."""
    import jwt

    reasons: list[tuple[type[Exception], str]] = [
        (jwt.ExpiredSignatureError, "The bearer token has expired."),
        (jwt.ImmatureSignatureError, "The bearer token is not valid yet."),
        (jwt.InvalidAudienceError, "The bearer token is not meant for this API (audience)."),
        (jwt.InvalidIssuerError, "The bearer token was not issued by the accepted issuer."),
        (jwt.MissingRequiredClaimError, "The bearer token lacks a required claim (exp, iss or aud)."),
        (jwt.InvalidSignatureError, "The bearer token's signature does not verify."),
        (jwt.DecodeError, "The bearer token is malformed."),
        (jwt.PyJWKClientError, "The bearer token's signing key is not one of the issuer's keys."),
    ]
    return next((message for kind, message in reasons if isinstance(error, kind)), "The bearer token is not valid.")
