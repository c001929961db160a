"""API keys: issued once, stored as a SHA-256 hash, scoped, expiring, revocable at once.

A key is ``ipk_`` and 32 random bytes (base64url), so a hash without salt is
enough: nobody can guess or precompute such a key. Authentication finds the key
by its hash through the ``byKeyHash`` index and then reads the item itself with
a consistent read, because the index lags the table: without that second read a
key revoked a moment ago could still pass. Nothing caches a key's validity, so a
revocation takes effect on the very next request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from chalicelib.auth.api_key_models import ApiKey, ApiKeyStatus, CreateApiKeyRequest, CreatedApiKey
from chalicelib.auth.principal import Principal
from chalicelib.core import aws
from chalicelib.core.dynamo import Table, deserialize
from chalicelib.core.errors import AuthenticationFailed, AuthorizationDenied, NotFound, ServiceUnavailable
from chalicelib.core.ids import new_id
from chalicelib.core.timestamps import format_time, normalise, now_text

TABLE = Table("api-keys", sort_key="keyId")
KEY_PREFIX = "ipk_"
SHOWN_PREFIX = 8
MAX_KEY_LENGTH = 200
_REJECTED = "The API key is not valid, has expired or was revoked."


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _status(item: dict[str, Any], now: str) -> ApiKeyStatus:
    if item.get("revokedAt"):
        return ApiKeyStatus.REVOKED
    expires = item.get("expiresAt")
    if expires and normalise(expires) <= now:
        return ApiKeyStatus.EXPIRED
    return ApiKeyStatus.ACTIVE


def _api_key(item: dict[str, Any]) -> ApiKey:
    return ApiKey(
        api_key_id=item["keyId"],
        name=item["name"],
        scopes=list(item["scopes"]),
        prefix=item["prefix"],
        status=_status(item, now_text()),
        created_at=item["createdAt"],
        created_by=item["createdBy"],
        expires_at=item.get("expiresAt"),
        revoked_at=item.get("revokedAt"),
    )


def create(principal: Principal, request: CreateApiKeyRequest, key_id: str | None = None) -> tuple[ApiKey, bool]:
    """The key, and whether this call created it; a key never carries a scope its creator lacks.

    ``key_id`` is a keyed request's (``Call.keyed_id``), written only if absent: when it exists the first
    attempt made it, and it is answered without the key itself, which is shown once.
    """
    missing = sorted(set(request.scopes) - principal.scopes)
    if missing:
        raise AuthorizationDenied(f"An API key cannot carry scopes the caller lacks: {', '.join(missing)}.")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    item: dict[str, Any] = {
        "tenantId": principal.tenant_id,
        "keyId": key_id or new_id("key"),
        "keyHash": hash_key(key),
        "name": request.name,
        "scopes": request.scopes,
        "prefix": key[:SHOWN_PREFIX],
        "createdAt": now_text(),
        "createdBy": principal.subject,
        "expiresAt": format_time(request.expires_at) if request.expires_at else None,
    }
    if not TABLE.put_new(item):
        existing = TABLE.get(principal.tenant_id, item["keyId"])
        if existing is None:
            raise ServiceUnavailable("The API key could not be recorded; retry the request.")
        return _api_key(existing), False
    return CreatedApiKey(**_api_key(item).model_dump(), api_key=key), True


def list_page(tenant_id: str, limit: int, cursor: str | None) -> tuple[list[ApiKey], str | None]:
    page = TABLE.query(tenant_id, limit=limit, cursor=cursor)
    return [_api_key(item) for item in page.items], page.next_cursor


def revoke(tenant_id: str, key_id: str) -> None:
    """Revoking a revoked key again changes nothing; an unknown one is a 404."""
    revoked = TABLE.update(tenant_id, key_id, {"revokedAt": now_text()}, "attribute_not_exists(revokedAt)")
    if revoked is None and TABLE.get(tenant_id, key_id) is None:
        raise NotFound(f"API key '{key_id}' was not found.")


def principal_from_api_key(key: str) -> Principal:
    if not key.startswith(KEY_PREFIX) or len(key) > MAX_KEY_LENGTH:
        raise AuthenticationFailed(_REJECTED)
    digest = hash_key(key)
    found = aws.dynamodb().query(
        TableName=TABLE.name,
        IndexName="byKeyHash",
        KeyConditionExpression="keyHash = :h",
        ExpressionAttributeValues={":h": {"S": digest}},
        ProjectionExpression="tenantId, keyId",
        Limit=1,
    )
    if not found.get("Items"):
        raise AuthenticationFailed(_REJECTED)
    located = deserialize(found["Items"][0])
    raw = aws.dynamodb().get_item(
        TableName=TABLE.name, Key=TABLE.key(located["tenantId"], located["keyId"]), ConsistentRead=True
    )
    item = deserialize(raw["Item"]) if "Item" in raw else None
    if item is None or not hmac.compare_digest(str(item.get("keyHash", "")), digest):
        raise AuthenticationFailed(_REJECTED)
    if _status(item, now_text()) != ApiKeyStatus.ACTIVE:
        raise AuthenticationFailed(_REJECTED)
    return Principal(
        tenant_id=item["tenantId"],
        subject=f"apikey:{item['keyId']}",
        scopes=frozenset(item["scopes"]),
        api_key_id=item["keyId"],
    )
