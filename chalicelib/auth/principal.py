"""The authenticated caller as every handler sees it."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.core.errors import AuthorizationDenied, NotFound

# The scopes of 004, plus the ones the later resources need. ``make token`` with
# no SCOPES grants all of them.
ALL_SCOPES = (
    "integration.connections.read",
    "integration.connections.write",
    "integration.providers.read",
    "integration.providers.write",
    "integration.runs.read",
    "integration.runs.write",
    "integration.credentials.read",
    "integration.credentials.rotate",
    "webhooks.subscriptions.read",
    "webhooks.subscriptions.write",
    "webhooks.deliveries.read",
    "webhooks.deliveries.ingest",
    "events.read",
    "events.write",
    "auth.api-keys.read",
    "auth.api-keys.write",
    "mcp.invoke",
    "metrics.read",
)


@dataclass(frozen=True)
class Principal:
    tenant_id: str
    subject: str
    scopes: frozenset[str]
    api_key_id: str | None = None  # set when an API key, not a token, authenticated the request
    # Set only for a subscriber-portal token (chalicelib/portal): the subscriptions it may touch, and nothing else.
    subscription_ids: frozenset[str] | None = None

    @property
    def is_portal(self) -> bool:
        return self.subscription_ids is not None

    def require(self, scope: str) -> None:
        if scope not in self.scopes:
            raise AuthorizationDenied(f"This operation needs the scope '{scope}'.")

    def require_tenant(self, body_tenant_id: str | None) -> None:
        """A body may name its tenant (as 004 does) but only the caller's own."""
        if body_tenant_id is not None and body_tenant_id != self.tenant_id:
            raise AuthorizationDenied("The body's tenantId does not match the caller's tenant.")

    def require_subscription(self, subscription_id: str | None) -> None:
        """A portal principal sees a subscription outside its allow-list as absent (404), as another tenant would."""
        if self.subscription_ids is not None and subscription_id not in self.subscription_ids:
            raise NotFound("No such subscription.")
