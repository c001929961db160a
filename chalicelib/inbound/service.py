"""Receiving a vendor delivery: verify, dedupe, normalize and commit it with its event, in one write.

The request path does one AWS write when warm (see ``lookup``): the conditional
put of the delivery's item, which holds its normalized event too
(``chalicelib.inbound.store``), so the events table's stream fans the event out
and nothing else is written. A put that succeeded is on the stream, so nothing
accepted is lost; a put that failed answers 503 and the vendor retries, and the
retry finds nothing or the very item (a repeat: 200 Duplicate, no second
write). The rate-limit counter is one more call when ``RATE_LIMIT_INBOUND_PER_MINUTE``
is set, at most once a second per connection and container (``chalicelib.ratelimit``);
it is counted per connection after the signature verifies, so forged requests
cannot spend a connection's budget. A status notification (SES, a
Twilio callback) records its run's delivery first (``delivery_status``: safe to
repeat). A signed delivery whose body cannot be read (not JSON, no event name)
is still committed, ``Failed`` with the reason and its raw body, together with
its ``DeliveryFailed`` event (one transaction, on this rare path only), and
answered 202: ``redrive`` normalizes it again after a fix. The connection's numbers
(accepted, repeated, refused: ``chalicelib.stats``; docs/observability.md) are
tallied in the container and written at most once per connection every few
seconds, so a flood costs no AWS call per request once the lookups are cached.
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
    ValidationFailed,
)
from chalicelib.core.logging import logger
from chalicelib.core.timestamps import now_text
from chalicelib.events.emit import delivery_failed, new_event
from chalicelib.events.models import PlatformEvent
from chalicelib.inbound import delivery_status, extract, lookup, sns, store, webhook_secrets
from chalicelib.inbound.catalog import RULES, normalize
from chalicelib.inbound.metrics import count_failed_delivery, count_rejection
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


@dataclass(frozen=True)
class Unreadable:
    """A signed delivery whose body could not be read: stored ``Failed`` with ``reason``, for a redrive."""

    provider_delivery_id: str
    reason: str


def _read(
    scheme: str, inbound: Inbound, request: SignedRequest, claims: dict[str, Any] | None
) -> extract.Extracted | extract.Challenge | Unreadable:
    """The delivery's ids, name and payload; a 004 envelope that is not valid is the caller's 400."""
    if inbound.envelope:
        return extract.envelope(inbound.body)
    try:
        found = extract.vendor(scheme, request, claims)
    except ValidationFailed as exc:
        return Unreadable(extract.body_digest(inbound.body), f"the delivery could not be read: {exc.message}")
    if isinstance(found, extract.Extracted) and inbound.run_id and scheme == "twilio":  # signed as part of the URL
        return extract.Extracted(
            found.provider_delivery_id, found.event_name, {**found.payload, "runId": inbound.run_id}
        )
    return found


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
    found = _read(provider.webhook_signature.scheme, inbound, request, claims)
    if isinstance(found, extract.Challenge):
        return Outcome({"challenge": found.challenge}, 200)
    delivery = Delivery(
        delivery_id=delivery_id_for(connection.tenant_id, connection.connection_id, found.provider_delivery_id),
        tenant_id=connection.tenant_id,
        connection_id=connection.connection_id,
        provider_id=provider.provider_id,
        provider_delivery_id=found.provider_delivery_id,
        status=DeliveryStatus.PROCESSED,
        received_at=now_text(),
        headers=redact_headers(inbound.headers, provider.webhook_signature.header),
        expires_at=int(request.now) + retention_seconds(),
        trace_id=current_trace_id(),
    )
    if isinstance(found, Unreadable):
        delivery = delivery.model_copy(
            update={"status": DeliveryStatus.FAILED, "failure_reason": found.reason, "failed_at": delivery.received_at}
        )
        item = store.failed_item(delivery, inbound.body, claims)
        announced = delivery_failed(delivery.tenant_id, item, found.reason, 0, delivery.expires_at)
        existing = store.insert_failed(item, announced)
    else:
        delivery = normalized(delivery, provider.key, found)
        if delivery.provider_id in delivery_status.READERS:  # before the commit: a vendor retry repeats it
            delivery_status.record(delivery)
        existing = store.insert(store.processed_item(delivery, event_of(delivery)))
    if existing is None or _own_write(existing, delivery):
        _committed(connection, delivery)
        return Outcome(_receipt(delivery, "Accepted"), 202)
    stats.tally(_observed(connection, "duplicate"))
    return Outcome(_receipt(existing, "Duplicate"), 200)


def normalized(delivery: Delivery, provider_key: str, found: extract.Extracted) -> Delivery:
    """The delivery with what its body says: the vendor's ids, its event name, type and payload."""
    return delivery.model_copy(
        update={
            "provider_delivery_id": found.provider_delivery_id,
            "event_name": found.event_name,
            "normalized_event_type": normalize(provider_key, found.event_name, found.payload),
            "payload": found.payload,
        }
    )


def event_of(delivery: Delivery) -> PlatformEvent:
    """The delivery's event: its id derived from the delivery's, expiring with it."""
    return new_event(
        delivery.tenant_id,
        str(delivery.normalized_event_type),
        store.event_data(delivery),
        source=f"inbound:{delivery.provider_id}",
        event_id=store.event_id_for(delivery.delivery_id),
        expires_at=delivery.expires_at,
    )


def _committed(connection: Connection, delivery: Delivery) -> None:
    if delivery.status == DeliveryStatus.PROCESSED:
        stats.tally(_observed(connection, "accepted"))
        return
    logger.error(
        "inbound delivery could not be normalized; stored Failed for a redrive",
        extra={"delivery_id": delivery.delivery_id, "tenant_id": delivery.tenant_id, "reason": delivery.failure_reason},
    )
    count_failed_delivery()


def _observed(connection: Connection, outcome: stats.InboundOutcome) -> stats.Observation:
    """A delivery in the connection's numbers (``GET /metrics``)."""
    return stats.for_connection(connection.tenant_id, connection.connection_id).inbound(outcome)


def _own_write(existing: Delivery, delivery: Delivery) -> bool:
    """The SDK retries a put whose response was lost; the retry then finds this very request's item."""
    return existing.trace_id == delivery.trace_id and existing.received_at == delivery.received_at


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
