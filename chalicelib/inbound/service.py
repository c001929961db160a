"""Receiving a vendor delivery: verify, dedupe, store, normalize, hand on (the consumer side: ``processing``).

The request path does at most two AWS calls when warm (see ``lookup``): the
conditional put that stores and dedupes, and the SQS send; a third, the
rate-limit counter, when ``RATE_LIMIT_INBOUND_PER_MINUTE`` is set, at most once a
second per connection and container (``chalicelib.ratelimit``). The limit
is counted per connection after the signature verifies, so forged requests
cannot spend a connection's budget. A repeated or refused delivery (forged, or to a connection that
is not Active) is tallied in the container and written at most once per connection every few seconds
(``chalicelib.stats``; docs/observability.md), so a flood costs no AWS call per request once the
lookups are cached; an accepted one is counted by the consumer, batched. A delivery is
stored as ``Received`` before the send. If the send fails the vendor gets a
503 and retries; every retry that finds the stored delivery still ``Received``
sends it again, however soon it comes (a vendor may retry once, at once). The
consumer is idempotent (deterministic event id), so a repeat send never makes a
second event. A vendor that never retries is covered by the sweeper
(``chalicelib.sweeper.deliveries``): a delivery still Received after
``DELIVERY_RECEIVED_DEADLINE_SECONDS`` is sent again, so nothing accepted is
ever lost.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.connections import store as connection_store
from chalicelib.connections.models import Connection, ConnectionStatus
from chalicelib.core import jsontext
from chalicelib.core.context import current_trace_id
from chalicelib.core.errors import (
    AuthenticationFailed,
    Conflict,
    CredentialUnavailable,
    FieldError,
    NotFound,
    ServiceUnavailable,
    ValidationFailed,
)
from chalicelib.core.logging import logger
from chalicelib.core.timestamps import now_text
from chalicelib.inbound import extract, handoff, lookup, queue, sns, store, webhook_secrets
from chalicelib.inbound.catalog import RULES, normalize
from chalicelib.inbound.metrics import count_rejection
from chalicelib.inbound.models import (
    Delivery,
    DeliveryReceipt,
    DeliveryStatus,
    EventTypeCatalog,
    EventTypeRule,
)
from chalicelib.inbound.signatures import SignatureRejected, SignedRequest, verify
from chalicelib.providers.models import Provider
from chalicelib.providers.service import provider_id_for
from chalicelib.ratelimit import limiter
from chalicelib.stats import record as stats

REDACTED = "[redacted]"
NAMED_CONNECTIONS = 20  # the most candidates a 400 names when a 004 envelope leaves its connection out
_SENSITIVE = ("signature", "secret", "token", "authorization", "cookie", "hmac", "api-key", "apikey")


def retention_seconds() -> int:
    return int(os.environ.get("DELIVERY_RETENTION_DAYS", "30")) * 24 * 3600


def delivery_id_for(tenant_id: str, connection_id: str, provider_delivery_id: str) -> str:
    """Deterministic, so the same vendor delivery always lands on the same item."""
    digest = hashlib.sha256(f"{tenant_id}/{connection_id}/{provider_delivery_id}".encode()).hexdigest()
    return f"del-{digest[:24]}"


def redact_headers(headers: Mapping[str, str], signature_header: str | None) -> dict[str, str]:
    extra = (signature_header or "").lower()
    return {
        name.lower(): REDACTED if any(s in name.lower() for s in _SENSITIVE) or name.lower() == extra else value
        for name, value in headers.items()
    }


@dataclass(frozen=True)
class Inbound:
    """A delivery as it arrived; ``envelope`` says it is the 004 form."""

    connection_id: str
    headers: Mapping[str, str]
    body: bytes
    envelope: bool
    provider_hint: str | None = None
    caller_tenant: str | None = None
    url: str = ""  # as the vendor addressed it, for schemes that sign the URL
    run_id: str | None = None  # ``?runId=`` of a status callback URL the platform gave the vendor (Twilio)


@dataclass(frozen=True)
class Outcome:
    payload: DeliveryReceipt | dict[str, Any]
    status: int


def sole_connection(tenant_id: str, provider_hint: str) -> str:
    """The connection a 004 envelope means when it names only its provider (the caller sent a bearer token).

    The tenant's one Active connection of that provider (key or id) is the one; with several the caller
    must pick, so the 400 names them in ``details``; with none it is a 404, as for an unknown connection.
    """
    wanted = {provider_hint, provider_id_for(provider_hint)}
    found = connection_store.active_of_provider(tenant_id, wanted, NAMED_CONNECTIONS + 1)
    if len(found) == 1:
        return found[0]
    if not found:
        raise NotFound(f"No active connection of provider '{provider_hint}' was found; name one in X-CS-Connection.")
    more = f" (the first {NAMED_CONNECTIONS} are named)" if len(found) > NAMED_CONNECTIONS else ""
    raise ValidationFailed(
        f"Several active connections of provider '{provider_hint}' could take this delivery; "
        f"name one in X-CS-Connection{more}.",
        [FieldError("X-CS-Connection", f"candidate {cid}") for cid in found[:NAMED_CONNECTIONS]],
    )


def _connection(inbound: Inbound) -> tuple[Connection, Provider]:
    connection = lookup.connection(inbound.connection_id)
    if connection is None or (inbound.caller_tenant and inbound.caller_tenant != connection.tenant_id):
        raise NotFound(f"Connection '{inbound.connection_id}' was not found.")
    provider = lookup.provider(connection.tenant_id, connection.provider_id)
    hint = inbound.provider_hint
    if provider is None or (hint is not None and hint not in {provider.key, provider.provider_id}):
        raise NotFound(f"Connection '{inbound.connection_id}' was not found for provider '{hint}'.")
    return connection, provider


def _authenticate(connection: Connection, provider: Provider, request: SignedRequest) -> dict[str, Any] | None:
    stored = None
    if connection.webhook_secret_ref:
        try:
            stored = webhook_secrets.read(connection.tenant_id, connection.webhook_secret_ref)
        except CredentialUnavailable as exc:
            # The sender learns only that the delivery cannot be verified now; the tenant's log has the reason.
            logger.warning(
                "inbound webhook secret unavailable",
                extra={
                    "connection_id": connection.connection_id,
                    "tenant_id": connection.tenant_id,
                    "reason": exc.message,
                },
            )
            raise CredentialUnavailable(
                "This connection's webhook secret cannot be read; deliveries are refused until it is fixed."
            ) from exc
    try:
        return verify(request, provider.webhook_signature, stored.valid(request.now) if stored else [])
    except SignatureRejected as rejected:
        count_rejection(provider.key, provider.webhook_signature.scheme)
        stats.tally(_observed(connection, "rejected"))
        logger.warning(
            "inbound delivery rejected",
            extra={
                "connection_id": connection.connection_id,
                "tenant_id": connection.tenant_id,
                "provider": provider.key,
                "reason": rejected.reason,
            },
        )
        raise AuthenticationFailed("The webhook signature could not be verified.") from rejected


def ingest(inbound: Inbound) -> Outcome:
    connection, provider = _connection(inbound)
    request = SignedRequest(inbound.headers, inbound.body, time.time(), inbound.url)
    claims = _authenticate(connection, provider, request)
    if provider.webhook_signature.scheme == "aws-sns":
        answered = sns.admit(connection, claims or {})
        if answered is not None:
            return Outcome(answered, 200)
    limiter.for_inbound(connection.tenant_id, connection.connection_id, request.now)
    if connection.status != ConnectionStatus.ACTIVE:
        stats.tally(_observed(connection, "rejected"))
        raise Conflict(f"Connection '{connection.connection_id}' is {connection.status}; deliveries are refused.")
    found = (
        extract.envelope(inbound.body)
        if inbound.envelope
        else extract.vendor(provider.webhook_signature.scheme, request, claims)
    )
    if isinstance(found, extract.Challenge):
        return Outcome({"challenge": found.challenge}, 200)
    if inbound.run_id and provider.webhook_signature.scheme == "twilio":  # signed as part of the URL
        found = extract.Extracted(
            found.provider_delivery_id, found.event_name, {**found.payload, "runId": inbound.run_id}
        )
    delivery = Delivery(
        delivery_id=delivery_id_for(connection.tenant_id, connection.connection_id, found.provider_delivery_id),
        tenant_id=connection.tenant_id,
        connection_id=connection.connection_id,
        provider_id=provider.provider_id,
        provider_delivery_id=found.provider_delivery_id,
        event_name=found.event_name,
        normalized_event_type=normalize(provider.key, found.event_name, found.payload),
        status=DeliveryStatus.RECEIVED,
        received_at=now_text(),
        headers=redact_headers(inbound.headers, provider.webhook_signature.header),
        payload=found.payload,
        expires_at=int(request.now) + retention_seconds(),
        trace_id=current_trace_id(),
    )
    existing = store.insert(delivery)
    if existing is None or _own_write(existing, delivery):
        _hand_on(delivery)  # counted "accepted" by the consumer, in its batch's one stats write
        return Outcome(_receipt(delivery, "Accepted"), 202)
    if existing.status == DeliveryStatus.RECEIVED:
        logger.info("re-sending a delivery never handed on", extra={"delivery_id": existing.delivery_id})
        _hand_on(existing)
    stats.tally(_observed(connection, "duplicate"))
    return Outcome(_receipt(existing, "Duplicate"), 200)


def _observed(connection: Connection, outcome: stats.InboundOutcome) -> stats.Observation:
    """A refused or repeated delivery in the connection's numbers (``GET /metrics``)."""
    return stats.for_connection(connection.tenant_id, connection.connection_id).inbound(outcome)


def _own_write(existing: Delivery, delivery: Delivery) -> bool:
    """The SDK retries a put whose response was lost; the retry then finds this very request's item."""
    return existing.trace_id == delivery.trace_id and existing.received_at == delivery.received_at


def _hand_on(delivery: Delivery) -> None:
    try:
        queue.send(handoff.message(delivery))
    except Exception as exc:
        logger.exception("inbound hand-off failed; a retry re-sends", extra={"delivery_id": delivery.delivery_id})
        raise ServiceUnavailable("The delivery was stored but could not be queued; retry it.") from exc


def _receipt(delivery: Delivery, status: str) -> DeliveryReceipt:
    return DeliveryReceipt(
        delivery_id=delivery.delivery_id,
        status="Accepted" if status == "Accepted" else "Duplicate",
        normalized_event_type=delivery.normalized_event_type,
        trace_id=current_trace_id(),
    )


def _for_api(delivery: Delivery) -> Delivery:
    """Numbers no float holds are shown as their literal text; the stored payload stays exact."""
    return delivery.model_copy(update={"payload": jsontext.for_api(delivery.payload)})


def get(tenant_id: str, delivery_id: str) -> Delivery:
    delivery = store.get(tenant_id, delivery_id)
    if delivery is None:
        raise NotFound(f"Delivery '{delivery_id}' was not found.")
    return _for_api(delivery)


def list_page(tenant_id: str, connection_id: str, limit: int, cursor: str | None) -> tuple[list[Delivery], str | None]:
    items, cursor = store.list_by_connection(tenant_id, connection_id, limit, cursor)
    return [_for_api(item) for item in items], cursor


def event_types() -> EventTypeCatalog:
    return EventTypeCatalog(
        items=[
            EventTypeRule(provider=r.provider, event_name=r.event, when=r.describe(), event_type=r.event_type)
            for r in RULES
        ]
    )
