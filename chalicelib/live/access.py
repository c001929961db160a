"""Who may open a socket: a bearer token or an API key with the events read scope, one tenant.

Clients that can set headers send ``Authorization: Bearer ...`` or
``X-API-Key``; a browser's ``WebSocket`` cannot, so it sends ``?token=``
(either kind). The query token is a credential in a URL: it is never logged
here (``redacted``), and docs/live.md says what risk remains (API Gateway
access logs, if an operator turns them on with the query string, and proxies).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from chalicelib.auth.api_keys import KEY_PREFIX, principal_from_api_key
from chalicelib.auth.principal import Principal
from chalicelib.auth.tokens import principal_from_bearer
from chalicelib.core.errors import AuthenticationFailed

READ_SCOPE = "events.read"
QUERY_TOKEN = "token"
REDACTED = "[redacted]"


@dataclass(frozen=True)
class Caller:
    principal: Principal
    token_expires_at: int | None  # a bearer token's ``exp``; an API key has none (revoking it ends new sockets)


def authenticate(headers: Mapping[str, str] | None, query: Mapping[str, str] | None) -> Caller:
    """The caller of a ``$connect``, or ``AuthenticationFailed`` / ``AuthorizationDenied`` (401 / 403)."""
    lowered = {name.lower(): value for name, value in (headers or {}).items()}
    query_token = (query or {}).get(QUERY_TOKEN)
    given = [name for name in ("authorization", "x-api-key") if lowered.get(name)]
    if (query_token and given) or len(given) > 1:
        raise AuthenticationFailed("Send one credential: a bearer token, an API key or ?token=, not several.")
    if query_token:
        caller = _from_secret(query_token)
    elif lowered.get("x-api-key"):
        caller = Caller(principal_from_api_key(lowered["x-api-key"]), None)
    elif lowered.get("authorization"):
        caller = _bearer(lowered["authorization"])
    else:
        raise AuthenticationFailed("A bearer token, an API key or ?token= is required.")
    caller.principal.require(READ_SCOPE)
    return caller


def _from_secret(secret: str) -> Caller:
    if secret.startswith(KEY_PREFIX):
        return Caller(principal_from_api_key(secret), None)
    return _bearer(f"Bearer {secret}")


def _bearer(authorization: str) -> Caller:
    principal = principal_from_bearer(authorization)  # verifies signature, issuer, audience and expiry
    import jwt

    claims = jwt.decode(authorization.partition(" ")[2].strip(), options={"verify_signature": False})
    expires = claims.get("exp")
    return Caller(principal, int(expires) if isinstance(expires, int | float) else None)


def redacted(query: Mapping[str, str] | None) -> dict[str, str]:
    """The query string as it may be logged: the token's value replaced."""
    return {name: REDACTED if name == QUERY_TOKEN else value for name, value in (query or {}).items()}
