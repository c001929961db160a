"""A connection's credential as a vendor call needs it, or one clear reason why it cannot be had.

Every path that uses the secret (``/test``, health checks, starting a run, the run worker) reads it here.
A secret that is gone, scheduled for deletion, unreadable, not JSON or not in the auth mode's shape is a
``CredentialUnavailable`` (409) naming the ``kv://`` reference and the reason, never a 500: the API answers
it, and the asynchronous paths record it (the run Failed, the health Unhealthy) instead of retrying.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.connections.models import Connection, missing_credential_fields
from chalicelib.core.errors import Conflict, CredentialUnavailable
from chalicelib.credentials import vault
from chalicelib.providers.models import AuthModel

if TYPE_CHECKING:
    from chalicelib.adapters.auth import Credential


def check_shape(auth_mode: AuthModel, ref: str, values: dict[str, Any]) -> None:
    missing = missing_credential_fields(auth_mode, values)
    if missing:
        raise CredentialUnavailable(
            f"The secret behind {ref} does not fit authMode '{auth_mode}': it lacks {', '.join(missing)}."
        )


def credential(connection: Connection, *, refresh: bool = False) -> Credential:
    """AWSCURRENT (cached briefly; ``refresh`` after a vendor 401), checked against the connection's auth mode.

    An ``AwsIam`` connection has no secret: its credential is empty and nothing is read."""
    from chalicelib.adapters.auth import Credential  # adapter code loads when a vendor is about to be called

    if connection.credential_ref is None:
        return Credential(connection.auth_mode, {})
    values = vault.read_cached(connection.tenant_id, vault.path_from_ref(connection.credential_ref), refresh=refresh)
    check_shape(connection.auth_mode, connection.credential_ref, values)
    return Credential(connection.auth_mode, values)


def path(connection: Connection) -> str:
    """Where the connection's secret lives; 409 for ``AwsIam``, which stores none (nothing to change or rotate)."""
    if connection.credential_ref is None:
        raise Conflict(
            f"Connection '{connection.connection_id}' uses authMode {connection.auth_mode}: it calls AWS under the "
            "platform's IAM role and has no stored credential to change or rotate."
        )
    return vault.path_from_ref(connection.credential_ref)
