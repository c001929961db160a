"""Signing secrets: generated in the Standard Webhooks format, kept only in Secrets Manager.

A subscription stores references (``kv://...``) to its secrets, never values.
Every generated secret gets its own path (``webhooks/<subscriptionId>/<n>-<random>``),
so a reference always names the same value, the dispatcher may cache values by
reference, and two rotations racing for the same version never collide on a name.
A caller-supplied ``signingSecretRef`` may hold either a bare ``whsec_...`` string
or JSON ``{"signingSecret": "whsec_..."}``.

A ``v1a`` subscription's ed25519 private key is kept the same way, as
``whsk_`` + base64 of its 32-byte seed (Standard Webhooks' prefix); its public
key, ``whpk_`` + base64 of the raw 32 bytes, is not secret and is returned to
be stored beside the reference. v1a keys are always generated here: a private
key never has to travel to the platform.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import threading
import time
from typing import TYPE_CHECKING

from chalicelib.core import jsontext
from chalicelib.core.errors import FieldError, Unprocessable
from chalicelib.credentials import vault
from chalicelib.outbound.config import get_outbound_settings

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

PREFIX = "whsec_"
PRIVATE_PREFIX = "whsk_"
PUBLIC_PREFIX = "whpk_"
_cache: dict[tuple[str, str], tuple[float, str]] = {}
_loading: dict[tuple[str, str], threading.Lock] = {}  # one read under way per reference (``read``)
_lock = threading.Lock()


def generate() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def key_bytes(secret: str) -> bytes:
    """The HMAC key of the Standard Webhooks signature: the base64 part decoded."""
    raw = secret[len(PREFIX) :] if secret.startswith(PREFIX) else secret
    return base64.b64decode(raw + "==", validate=False)


def is_valid(secret: str) -> bool:
    try:
        raw = secret[len(PREFIX) :] if secret.startswith(PREFIX) else secret
        return len(base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True)) >= 16
    except (binascii.Error, ValueError):
        return False


def managed_path(subscription_id: str, version: int) -> str:
    return f"webhooks/{subscription_id}/{version}-{secrets.token_hex(4)}"


def store_generated(tenant_id: str, subscription_id: str, version: int) -> tuple[str, str]:
    """Create a new secret; return its reference and (once) its value."""
    value = generate()
    path = managed_path(subscription_id, version)
    vault.store_new(tenant_id, path, {"signingSecret": value}, description=f"webhook signing secret {subscription_id}")
    return vault.ref_for(path), value


def private_key(value: str) -> Ed25519PrivateKey:
    """The signing key behind a ``whsk_`` value (cryptography loads here: only ``v1a`` subscriptions pay for it)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.from_private_bytes(base64.b64decode(value[len(PRIVATE_PREFIX) :]))


def public_key_of(key: Ed25519PrivateKey) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return PUBLIC_PREFIX + base64.b64encode(raw).decode()


def store_generated_key(tenant_id: str, subscription_id: str, version: int) -> tuple[str, str]:
    """Create a new ed25519 key pair; keep the private half, return its reference and the public key."""
    seed = secrets.token_bytes(32)
    value = PRIVATE_PREFIX + base64.b64encode(seed).decode()
    path = managed_path(subscription_id, version)
    vault.store_new(tenant_id, path, {"signingSecret": value}, description=f"webhook v1a signing key {subscription_id}")
    return vault.ref_for(path), public_key_of(private_key(value))


def _parse(text: str) -> str:
    try:
        document = jsontext.read(text)
    except ValueError:
        return text.strip()
    if isinstance(document, dict) and isinstance(document.get("signingSecret"), str):
        return str(document["signingSecret"])
    return text.strip()


def check_ref(tenant_id: str, ref: str, field: str = "signingSecretRef") -> str:
    """A caller's reference must exist in the tenant and hold a usable secret."""
    path = vault.path_from_ref(ref, field)
    if not vault.exists(tenant_id, path):
        raise Unprocessable(f"No secret exists at {ref}.", [FieldError(field, "secret not found")])
    if not is_valid(_parse(vault.read_text(tenant_id, path))):
        raise Unprocessable(
            f"The secret at {ref} is not a base64 signing secret (whsec_...).",
            [FieldError(field, "not a base64 secret of at least 16 bytes")],
        )
    return vault.ref_for(path)


def _cached(key: tuple[str, str]) -> str | None:
    with _lock:
        hit = _cache.get(key)
    if hit and time.monotonic() - hit[0] < get_outbound_settings().secret_cache_seconds:
        return hit[1]
    return None


def read(tenant_id: str, ref: str) -> str:
    """The secret behind ``ref``, cached per container (a reference always names the same value).

    A dispatch batch runs its records at once, so with a cold cache every record of one subscription would
    ask Secrets Manager together: one of them reads, the others wait for its value (one read per batch).
    """
    key = (tenant_id, ref)
    value = _cached(key)
    if value is not None:
        return value
    with _lock:
        loading = _loading.setdefault(key, threading.Lock())
    with loading:
        value = _cached(key)
        if value is None:
            started = time.monotonic()
            value = _parse(vault.read_text(tenant_id, vault.path_from_ref(ref)))
            with _lock:
                _cache[key] = (started, value)
    return value


def forget(tenant_id: str, ref: str, *, managed: bool) -> None:
    """Drop a secret from the cache and, if the platform made it, from Secrets Manager."""
    with _lock:
        _cache.pop((tenant_id, ref), None)
        _loading.pop((tenant_id, ref), None)
    if managed:
        vault.delete(tenant_id, vault.path_from_ref(ref))
