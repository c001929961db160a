"""Portal tokens: HS256 JWTs signed with one platform key kept in Secrets Manager.

The key is a platform secret, not a tenant's: its name sits under the resource
prefix (so the existing IAM grant covers it) in a ``.platform`` folder that no
``kv://`` reference can name (a tenant id never starts with a dot). It is made
on first use, so a new stage needs no setup step; two cold starts racing to make
it both end up reading the one that won. A token carries the tenant, the
subscription allow-list, the consumer id and an expiry; it is checked with a
distinct issuer and audience so it can never pass for an IdP token or the reverse.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
from typing import Any

from chalicelib.auth.principal import Principal
from chalicelib.core import aws
from chalicelib.core.config import get_settings
from chalicelib.core.errors import AuthenticationFailed

ISSUER = "integration-platform/portal"
AUDIENCE = "integration-platform/portal"
# The scopes a portal principal holds; routing lets it reach only operations declared portal=True.
SCOPES = frozenset({"webhooks.subscriptions.read", "webhooks.subscriptions.write", "events.read", "events.write"})
SUBJECT_PREFIX = "portal:"
_key_cache: list[bytes] = []
_lock = threading.Lock()


def key_name() -> str:
    return f"{get_settings().secret_prefix}.platform/portal-signing-key"


def _signing_key() -> bytes:
    with _lock:
        if not _key_cache:
            _key_cache.append(_read_or_create())
        return _key_cache[0]


def _read_or_create() -> bytes:
    client = aws.secretsmanager()
    try:
        return client.get_secret_value(SecretId=key_name())["SecretString"].encode()
    except client.exceptions.ResourceNotFoundException:
        pass
    with contextlib.suppress(client.exceptions.ResourceExistsException):  # another process made it first: use it
        client.create_secret(
            Name=key_name(),
            SecretString=secrets.token_urlsafe(48),
            Description="Signs subscriber-portal tokens (chalicelib/portal/tokens.py)",
        )
    return client.get_secret_value(SecretId=key_name())["SecretString"].encode()


def mint(tenant_id: str, subscription_ids: list[str], consumer_id: str | None, ttl_seconds: int) -> tuple[str, int]:
    """The token and its expiry (epoch seconds)."""
    import jwt

    now = int(time.time())
    expires = now + ttl_seconds
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": SUBJECT_PREFIX + (consumer_id or "subscriptions"),
        "iat": now,
        "exp": expires,
        "tenant_id": tenant_id,
        "subscription_ids": subscription_ids,
    }
    if consumer_id is not None:
        claims["consumer_id"] = consumer_id
    return jwt.encode(claims, _signing_key(), algorithm="HS256"), expires


def is_portal_token(token: str) -> bool:
    """Whether to check ``token`` as a portal token (its unverified issuer says so); nothing is trusted yet."""
    import jwt

    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return False
    return claims.get("iss") == ISSUER


def principal_from_portal(token: str) -> Principal:
    import jwt

    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key=_signing_key(),
            algorithms=["HS256"],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "iss", "aud", "tenant_id", "subscription_ids"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise AuthenticationFailed("The portal link has expired; ask for a new one.") from exc
    except jwt.PyJWTError as exc:
        raise AuthenticationFailed("The portal token is not valid.") from exc
    tenant, allowed = claims["tenant_id"], claims["subscription_ids"]
    if not isinstance(tenant, str) or not tenant or not isinstance(allowed, list):
        raise AuthenticationFailed("The portal token is not valid.")
    return Principal(
        tenant_id=tenant,
        subject=str(claims.get("sub", "")),
        scopes=SCOPES,
        subscription_ids=frozenset(str(s) for s in allowed),
    )
