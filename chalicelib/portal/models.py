"""Wire shapes of ``POST /webhooks/portal-sessions``."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field, model_validator

from chalicelib.core.models import RequestModel, WireModel, exactly_one_of
from chalicelib.core.timestamps import Timestamp

MAX_EXPIRY_SECONDS = 24 * 3600
DEFAULT_EXPIRY_SECONDS = 3600
MAX_SUBSCRIPTIONS = 50
SubscriptionId = Annotated[str, Field(min_length=1, max_length=80)]


class PortalSessionRequest(RequestModel):
    model_config = ConfigDict(json_schema_extra=exactly_one_of("consumerId", "subscriptionIds"))

    consumer_id: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(
        default=None, description="Every subscription whose projectId is this consumer id (resolved now)."
    )
    subscription_ids: Annotated[list[SubscriptionId], Field(min_length=1)] | None = None
    expires_in_seconds: Annotated[int, Field(ge=60, le=MAX_EXPIRY_SECONDS)] = DEFAULT_EXPIRY_SECONDS

    @model_validator(mode="after")
    def _one_selector(self) -> PortalSessionRequest:
        if (self.consumer_id is None) == (self.subscription_ids is None):
            raise ValueError("give exactly one of consumerId or subscriptionIds")
        if self.subscription_ids is not None and len(set(self.subscription_ids)) > MAX_SUBSCRIPTIONS:
            raise ValueError(f"at most {MAX_SUBSCRIPTIONS} subscriptions per portal session")
        return self


class PortalSession(WireModel):
    portal_url: str | None = Field(
        default=None, description="Open in a browser; the token travels in the fragment, never to a server log."
    )
    token: str | None = Field(
        default=None,
        description="A bearer token for the portal's routes on these subscriptions only. Shown once: an "
        "Idempotency-Key replay answers without it (and without portalUrl); mint a new session instead.",
    )
    expires_at: Timestamp
    subscription_ids: list[str]
    consumer_id: str | None = None
