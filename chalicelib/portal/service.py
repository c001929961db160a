"""Minting a portal session: resolve which subscriptions it may touch, then sign the token.

The allow-list is fixed when the link is made: a subscription the tenant adds to
the consumer later needs a new link, and one the tenant deletes simply 404s.
"""

from __future__ import annotations

from urllib.parse import quote

from chalicelib.core.config import get_settings
from chalicelib.core.errors import FieldError, Unprocessable
from chalicelib.core.timestamps import from_epoch
from chalicelib.outbound import service as subscriptions
from chalicelib.outbound.models import SubscriptionListQuery
from chalicelib.portal import tokens
from chalicelib.portal.models import MAX_SUBSCRIPTIONS, PortalSession, PortalSessionRequest


def _consumer_subscriptions(tenant_id: str, consumer_id: str) -> list[str]:
    found: list[str] = []
    cursor: str | None = None
    while True:
        page, cursor = subscriptions.list_page(tenant_id, SubscriptionListQuery(limit=100, cursor=cursor))
        found += [s.subscription_id for s in page if s.project_id == consumer_id]
        if cursor is None or len(found) > MAX_SUBSCRIPTIONS:
            return found


def create(tenant_id: str, request: PortalSessionRequest) -> PortalSession:
    if request.subscription_ids is not None:
        chosen = list(dict.fromkeys(request.subscription_ids))
        for subscription_id in chosen:
            subscriptions.get_item(tenant_id, subscription_id)  # 404 for an id that is not the caller's
    else:
        assert request.consumer_id is not None
        chosen = _consumer_subscriptions(tenant_id, request.consumer_id)
        if not chosen:
            raise Unprocessable(
                f"No subscription has projectId '{request.consumer_id}'.",
                [FieldError("consumerId", "no subscription belongs to this consumer")],
            )
        if len(chosen) > MAX_SUBSCRIPTIONS:
            raise Unprocessable(
                f"A portal session covers at most {MAX_SUBSCRIPTIONS} subscriptions.",
                [FieldError("consumerId", "too many subscriptions")],
            )
    token, expires = tokens.mint(tenant_id, chosen, request.consumer_id, request.expires_in_seconds)
    return PortalSession(
        portal_url=f"{get_settings().public_base_url}/portal#token={quote(token)}",
        token=token,
        expires_at=from_epoch(expires),
        subscription_ids=chosen,
        consumer_id=request.consumer_id,
    )
