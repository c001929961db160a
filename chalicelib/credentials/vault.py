"""Secrets Manager access for credentials, keyed from the tenant.

A reference ``kv://<path>`` always resolves inside the caller's tenant:
``<resource-prefix>/<tenantId>/<path>``. A tenant therefore cannot name another
tenant's secret, and the IAM policy grants only the resource prefix.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from typing import Any

from chalicelib.core import aws, jsontext
from chalicelib.core.config import get_settings
from chalicelib.core.errors import CredentialUnavailable, FieldError, ValidationFailed
from chalicelib.core.timestamps import format_time

REF_SCHEME = "kv://"
CACHE_SECONDS = 60.0
_cache: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}
_cache_lock = threading.Lock()
_PATH = re.compile(r"^[A-Za-z0-9_+=.@-]+(/[A-Za-z0-9_+=.@-]+)*$")


def path_from_ref(ref: str, field: str = "credentialRef") -> str:
    if not ref.startswith(REF_SCHEME):
        raise ValidationFailed(f"{field} must look like kv://<path>.", [FieldError(field, "must start with kv://")])
    path = ref[len(REF_SCHEME) :].split("?", 1)[0]
    if not _PATH.match(path) or ".." in path.split("/") or len(path) > 400:
        raise ValidationFailed(f"{field} has an invalid path.", [FieldError(field, "invalid path")])
    return path


def ref_for(path: str) -> str:
    return f"{REF_SCHEME}{path}"


def secret_name(tenant_id: str, path: str) -> str:
    return f"{get_settings().secret_prefix}{tenant_id}/{path}"


def credential_id(tenant_id: str, path: str) -> str:
    """Stable id for the credential behind a path (the same secret, the same id)."""
    digest = hashlib.sha256(f"{tenant_id}/{path}".encode()).hexdigest()[:12]
    return f"cred-{digest}"


def exists(tenant_id: str, path: str) -> bool:
    client = aws.secretsmanager()
    try:
        client.describe_secret(SecretId=secret_name(tenant_id, path))
    except client.exceptions.ResourceNotFoundException:
        return False
    return True


def store_new(tenant_id: str, path: str, value: dict[str, Any], description: str, *, replace: bool = False) -> str:
    """Create the secret and return its version id.

    ``replace`` makes ``value`` current in a secret that already exists at ``path``: a keyed create's repeat
    whose path is derived from the Idempotency-Key meets what its first attempt wrote before it died.
    """
    client = aws.secretsmanager()
    name = secret_name(tenant_id, path)
    try:
        response = client.create_secret(
            Name=name,
            SecretString=json.dumps(value),
            Description=description,
            Tags=[{"Key": "tenantId", "Value": tenant_id}],
        )
    except client.exceptions.ResourceExistsException:
        if not replace:
            raise
        return str(client.put_secret_value(SecretId=name, SecretString=json.dumps(value))["VersionId"])
    return str(response["VersionId"])


# Why a read failed, when the secret cannot be used as it stands; other errors (throttling, AWS down) stay 5xx.
_UNUSABLE = {
    "ResourceNotFoundException": "has no AWSCURRENT value",
    "InvalidRequestException": "cannot be read now",
    "AccessDeniedException": "cannot be read (access denied)",
    "DecryptionFailure": "cannot be decrypted (KMS)",
}


def _described(name: str) -> dict[str, Any] | None:
    """``DescribeSecret``, or ``None`` when there is no such secret."""
    client = aws.secretsmanager()
    try:
        return dict(client.describe_secret(SecretId=name))
    except client.exceptions.ResourceNotFoundException:
        return None


def _state(name: str) -> str | None:
    """Why the secret itself is unusable (missing, scheduled for deletion), or ``None`` when it is there."""
    try:
        described = _described(name)
    except aws.secretsmanager().exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "AccessDeniedException":
            return "cannot be described (access denied)"
        raise
    if described is None:
        return "does not exist"
    deleted = described.get("DeletedDate")
    if deleted is not None:
        return f"is scheduled for deletion ({format_time(deleted)}); restore it or give the connection a new secret"
    return None


def _unavailable(tenant_id: str, path: str, fallback: str) -> CredentialUnavailable:
    """The error for a failed read or write: the secret's own state when that explains it, else ``fallback``."""
    why = _state(secret_name(tenant_id, path)) or fallback
    return CredentialUnavailable(f"The secret behind {ref_for(path)} {why}.")


def check_present(tenant_id: str, path: str) -> None:
    """``CredentialUnavailable`` unless the secret exists and is not scheduled for deletion."""
    why = _state(secret_name(tenant_id, path))
    if why is not None:
        raise CredentialUnavailable(f"The secret behind {ref_for(path)} {why}.")


def read_current(tenant_id: str, path: str) -> dict[str, Any]:
    """AWSCURRENT as a JSON object; ``CredentialUnavailable`` (409) saying why it cannot be used otherwise."""
    client = aws.secretsmanager()
    name = secret_name(tenant_id, path)
    try:
        response = client.get_secret_value(SecretId=name, VersionStage="AWSCURRENT")
    except client.exceptions.ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code not in _UNUSABLE:
            raise
        raise _unavailable(tenant_id, path, _UNUSABLE[code]) from exc
    try:
        value = jsontext.read(response.get("SecretString") or "")
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise CredentialUnavailable(f"The secret behind {ref_for(path)} does not hold a JSON object.")
    return value


def read_cached(tenant_id: str, path: str, *, refresh: bool = False) -> dict[str, Any]:
    """AWSCURRENT, kept in-process briefly so a batch of runs costs one Secrets Manager call.

    ``refresh`` skips the cache: a vendor 401 usually means the secret was rotated since it was cached.
    """
    key = (tenant_id, path)
    now = time.monotonic()
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None and not refresh and cached[0] > now:
        return dict(cached[1])
    value = read_current(tenant_id, path)
    with _cache_lock:
        _cache[key] = (now + CACHE_SECONDS, value)
    return dict(value)


def put_value(tenant_id: str, path: str, value: dict[str, Any], description: str) -> str:
    """Create the secret, or make ``value`` its new AWSCURRENT version; returns the version id."""
    client = aws.secretsmanager()
    name = secret_name(tenant_id, path)
    described = _described(name)
    if described is not None and described.get("DeletedDate") is not None:
        raise _unavailable(tenant_id, path, "is scheduled for deletion")  # a write would fail: restore it first
    try:
        response = client.put_secret_value(SecretId=name, SecretString=json.dumps(value))
    except client.exceptions.ResourceNotFoundException:
        return store_new(tenant_id, path, value, description)
    except client.exceptions.InvalidRequestException as exc:  # scheduled for deletion since we looked
        raise _unavailable(tenant_id, path, "cannot be written now") from exc
    return str(response["VersionId"])


def read_text(tenant_id: str, path: str) -> str:
    """The current secret string as stored (JSON or a bare value)."""
    response = aws.secretsmanager().get_secret_value(SecretId=secret_name(tenant_id, path), VersionStage="AWSCURRENT")
    return str(response["SecretString"])


def delete(tenant_id: str, path: str) -> None:
    """Delete a platform-generated secret at once (it can be regenerated, never recovered)."""
    client = aws.secretsmanager()
    try:
        client.delete_secret(SecretId=secret_name(tenant_id, path), ForceDeleteWithoutRecovery=True)
    except client.exceptions.ResourceNotFoundException:
        return


def forget(tenant_id: str, path: str) -> None:
    """Drop this process's cached value (after a change here); other processes see it within ``CACHE_SECONDS``."""
    with _cache_lock:
        _cache.pop((tenant_id, path), None)


def schedule_deletion(tenant_id: str, path: str, recovery_days: int) -> str | None:
    """Delete a tenant credential recoverably (``RestoreSecret`` within the window); the deletion date."""
    client = aws.secretsmanager()
    try:
        response = client.delete_secret(SecretId=secret_name(tenant_id, path), RecoveryWindowInDays=recovery_days)
    except client.exceptions.ResourceNotFoundException:
        return None
    forget(tenant_id, path)
    deletion = response.get("DeletionDate")
    return format_time(deletion) if deletion is not None else None
