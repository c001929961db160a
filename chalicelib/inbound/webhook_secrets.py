"""A connection's inbound webhook secret in Secrets Manager, with an overlap during a change.

The secret document is ``{"current", "previous", "previousExpiresAt"}``: while a
change overlaps, deliveries signed with either secret verify, so the vendor
side can be switched at leisure. A ``webhookSecretRef`` may instead name a
secret the tenant manages, holding ``{"webhookSecret": "..."}``; the first
change through the API moves the connection to its own document.
"""

from __future__ import annotations

import base64
import secrets
import time
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from chalicelib.connections.models import platform_webhook_path
from chalicelib.core.errors import CredentialUnavailable, FieldError, Unprocessable
from chalicelib.core.json_input import valid_unicode
from chalicelib.credentials import vault
from chalicelib.inbound.signatures.standard_webhooks import SECRET_PREFIX, secret_key


def own_path(connection_id: str) -> str:
    return platform_webhook_path(connection_id)


@dataclass(frozen=True)
class WebhookSecrets:
    current: str
    previous: str | None = None
    previous_expires_at: int | None = None

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> WebhookSecrets | None:
        """``None`` when there is no current secret a signature could use (a lone surrogate has no bytes)."""
        current = document.get("current", document.get("webhookSecret"))
        if not isinstance(current, str) or not current or not valid_unicode(current):
            return None
        previous = document.get("previous")
        expires = document.get("previousExpiresAt")
        if not isinstance(previous, str) or not valid_unicode(previous) or not isinstance(expires, int):
            return cls(current)
        return cls(current, previous, expires)

    def document(self) -> dict[str, Any]:
        plain: dict[str, Any] = {"current": self.current}
        if self.previous is not None:
            plain.update(previous=self.previous, previousExpiresAt=self.previous_expires_at)
        return plain

    def valid(self, now: float) -> list[str]:
        """The secrets a delivery may be signed with right now."""
        keep_previous = self.previous is not None and (self.previous_expires_at or 0) > now
        return [self.current, self.previous] if keep_previous and self.previous else [self.current]


def generate(scheme: str) -> str:
    """A fresh secret in the form the scheme's senders expect."""
    if scheme == "standard-webhooks":
        return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()
    return "whsec_" + secrets.token_urlsafe(32)


def check_value(scheme: str, value: str, field: str = "webhookSecret") -> None:
    if scheme == "standard-webhooks" and secret_key(value) is None:
        raise Unprocessable(
            "Standard Webhooks secrets are base64 (optionally prefixed whsec_).",
            [FieldError(field, "not base64")],
        )


def store_initial(tenant_id: str, connection_id: str, value: str, *, replace: bool = False) -> str:
    """Write a new connection's secret (``replace``: over a keyed first attempt's); returns its ``kv://`` reference."""
    path = own_path(connection_id)
    vault.store_new(
        tenant_id,
        path,
        WebhookSecrets(value).document(),
        description=f"inbound webhook secret for {connection_id}",
        replace=replace,
    )
    return vault.ref_for(path)


def read(tenant_id: str, ref: str, *, refresh: bool = False) -> WebhookSecrets:
    """Cached for ``vault.CACHE_SECONDS``: warm deliveries make no Secrets Manager call.

    ``CredentialUnavailable`` (409) when the secret is gone, scheduled for deletion, unreadable or holds no secret.
    """
    document = vault.read_cached(tenant_id, vault.path_from_ref(ref, "webhookSecretRef"), refresh=refresh)
    found = WebhookSecrets.from_document(document)
    if found is None:
        raise CredentialUnavailable(f'The secret behind {ref} holds no webhook secret ({{"webhookSecret": "..."}}).')
    return found


def check_ref(tenant_id: str, ref: str) -> None:
    try:
        read(tenant_id, ref, refresh=True)
    except CredentialUnavailable as exc:
        raise Unprocessable(
            f'No usable webhook secret at {ref}; store {{"webhookSecret": "..."}} there. {exc.message}',
            [FieldError("webhookSecretRef", "secret not found or not in the expected shape")],
        ) from exc


def change(tenant_id: str, connection_id: str, current_ref: str | None, value: str, overlap_seconds: int) -> int | None:
    """Make ``value`` current and keep the old one valid for ``overlap_seconds``; returns that expiry."""
    old = None
    if current_ref:
        with suppress(CredentialUnavailable):  # nothing readable to keep verifying; the new secret replaces it
            old = read(tenant_id, current_ref, refresh=True)
    expires = int(time.time()) + overlap_seconds if old is not None and overlap_seconds > 0 else None
    updated = WebhookSecrets(value, old.current if old and expires else None, expires)
    path = own_path(connection_id)
    vault.put_value(tenant_id, path, updated.document(), description=f"inbound webhook secret for {connection_id}")
    vault.read_cached(tenant_id, path, refresh=True)
    return expires
