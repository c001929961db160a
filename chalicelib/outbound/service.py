"""Subscription lifecycle: create, read, list, change, delete, rotate the secret, disable.

Endpoint URLs pass the platform URL policy (``chalicelib.core.urls``) when they
are stored and again before every send. Secrets are referenced, never stored:
the subscription keeps a list of secret references, newest last, each with an
optional expiry so a rotated-out secret keeps signing through the overlap.
A ``v1a`` subscription's entries are ed25519 private keys, generated here and
rotated the same way; their public keys are kept on the entries and published.
A content ``filter`` and a ``transform`` are checked here, when they are set,
so a bad one is a 400 naming its path and fan-out never meets one.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.core.dynamo import Item
from chalicelib.core.errors import Conflict, FieldError, NotFound, ServiceUnavailable, ValidationFailed
from chalicelib.core.ids import new_id
from chalicelib.core.timestamps import format_time, now_text, parse_time
from chalicelib.core.urls import check_url
from chalicelib.destinations import access
from chalicelib.destinations.models import Destination, WebhookDestination
from chalicelib.events import catalog
from chalicelib.events.emit import commit, new_event
from chalicelib.outbound import fanout, filters, store, target, transforms
from chalicelib.outbound import secrets as signing_secrets
from chalicelib.outbound.config import get_outbound_settings
from chalicelib.outbound.models import (
    CreateSubscriptionRequest,
    DeliveryMode,
    PublicKey,
    PublicKeyEntry,
    RotatedSecret,
    RotateSecretRequest,
    SignatureScheme,
    SigningSecretEntry,
    Subscription,
    SubscriptionListQuery,
    SubscriptionStatus,
    UpdateSubscriptionRequest,
)

SIGNING_FIELDS = ("signingSecretRef", "signingSecrets", "signatureScheme")


def to_model(item: Item, signing_secret: str | None = None) -> Subscription:
    entries = _entries(item)
    webhook = target.is_webhook(item)
    return Subscription.model_validate(
        {
            **item,
            "eventType": item["eventTypes"][0],
            "destination": target.of(item).model_dump(by_alias=True),
            "signatureScheme": item.get("signatureScheme", SignatureScheme.V1) if webhook else None,
            "signingSecret": signing_secret,
            "publicKey": entries[-1].public_key if entries else None,
        },
        by_alias=True,
    )


def get_item(tenant_id: str, subscription_id: str) -> Item:
    item = store.SUBSCRIPTIONS.get(tenant_id, subscription_id)
    if item is None:
        raise NotFound(f"Subscription '{subscription_id}' does not exist.")
    return item


def get(tenant_id: str, subscription_id: str) -> Subscription:
    return to_model(get_item(tenant_id, subscription_id))


def list_page(tenant_id: str, query: SubscriptionListQuery) -> tuple[list[Subscription], str | None]:
    page = store.SUBSCRIPTIONS.query(tenant_id, limit=query.limit, cursor=query.cursor)
    return [to_model(item) for item in page.items], page.next_cursor


def create(
    tenant_id: str, request: CreateSubscriptionRequest, subscription_id: str | None = None
) -> tuple[Subscription, bool]:
    """The subscription, and whether this call created it.

    ``subscription_id`` is a keyed request's (``Call.keyed_id``): when it exists the first attempt made it,
    and it is answered as it is (a generated signing secret is shown once, so not again). A first attempt
    that died between writing its signing secret and the subscription leaves that secret unreferenced.
    """
    if subscription_id is not None:
        existing = store.SUBSCRIPTIONS.get(tenant_id, subscription_id)
        if existing is not None:
            return to_model(existing), False
    subscription_id = subscription_id or new_id("sub")
    url_field = "endpointUrl" if request.endpoint_url else "destination.url"
    destination = _checked(tenant_id, subscription_id, request.target(), url_field)
    now = now_text()
    if request.filter is not None:
        filters.check(request.filter)
    if request.transform is not None:
        transforms.check(request.transform)
    signed: Item = {}
    entry, generated = None, None
    if isinstance(destination, WebhookDestination):
        entry, generated = _new_entry(
            tenant_id, subscription_id, 1, request.signature_scheme, request.signing_secret_ref
        )
        signed = _signing_fields(entry, 1, request.signature_scheme)
    item: Item = {
        "tenantId": tenant_id,
        "subscriptionId": subscription_id,
        "projectId": request.project_id,
        "status": SubscriptionStatus.ACTIVE if request.active else SubscriptionStatus.INACTIVE,
        "active": request.active,
        "eventTypes": request.patterns(),
        **target.fields(destination),
        **signed,
        "filter": request.filter,
        "transform": request.transform,
        "description": request.description,
        "delivery": request.delivery,
        "orderingKey": request.ordering_key,
        "createdAt": now,
        "updatedAt": now,
    }
    if not store.SUBSCRIPTIONS.put_new(item):  # a concurrent repeat with the same key wrote it first
        if entry is not None:  # this attempt's secret is nobody's
            signing_secrets.forget(tenant_id, entry.ref, managed=entry.managed)
        existing = store.SUBSCRIPTIONS.get(tenant_id, subscription_id)
        if existing is None:
            raise ServiceUnavailable("The subscription could not be recorded; retry the request.")
        return to_model(existing), False
    fanout.forget_tenant(tenant_id)
    return to_model(item, generated), True


def update(tenant_id: str, subscription_id: str, request: UpdateSubscriptionRequest) -> Subscription:
    """``active: true`` also re-enables a subscription the platform disabled.

    A new destination is checked as at create. One that stops being a webhook drops its signing secrets;
    one that becomes a webhook gets a new one (shown once, in this answer).
    """
    current = get_item(tenant_id, subscription_id)
    changes: dict[str, Any] = {"updatedAt": now_text()}
    removals: list[str] = []
    dropped: list[SigningSecretEntry] = []
    becomes_webhook = False
    destination = request.target()
    if destination is not None:
        url_field = "endpointUrl" if request.endpoint_url else "destination.url"
        destination = _checked(tenant_id, subscription_id, destination, url_field)
        changes.update(target.fields(destination))
        if not isinstance(destination, WebhookDestination):
            removals += [f for f in ("endpointUrl", *SIGNING_FIELDS) if f in current]
            dropped = _entries(current)
        elif not target.is_webhook(current):
            removals.append(target.DESTINATION)
            becomes_webhook = True
    if request.event_types is not None:
        changes["eventTypes"] = request.event_types
    if request.description is not None:
        changes["description"] = request.description
    if request.delivery is not None:
        changes["delivery"] = request.delivery
    if "ordering_key" in request.model_fields_set:
        if request.ordering_key is None:
            removals.append("orderingKey")
        else:
            changes["orderingKey"] = request.ordering_key
    delivery = changes.get("delivery", current.get("delivery", DeliveryMode.UNORDERED))
    key = None if "orderingKey" in removals else changes.get("orderingKey", current.get("orderingKey"))
    if key is not None and delivery != DeliveryMode.ORDERED:
        raise ValidationFailed(
            "orderingKey needs delivery 'ordered'.", [FieldError("orderingKey", "needs delivery 'ordered'")]
        )
    for name, check in (("filter", filters.check), ("transform", transforms.check)):
        if name in request.model_fields_set:
            value = getattr(request, name)
            if value is None:
                removals.append(name)
            else:
                changes[name] = check(value)
    if request.active is not None:
        changes["active"] = request.active
        changes["status"] = SubscriptionStatus.ACTIVE if request.active else SubscriptionStatus.INACTIVE
        if request.active:
            removals += [f for f in ("disabledAt", "disabledReason", "failingSince") if f in current]
    generated: str | None = None
    entry: SigningSecretEntry | None = None
    if becomes_webhook:  # made only once the request is valid, so a refused one leaves no secret behind
        version = int(current.get("secretVersion", 0)) + 1
        entry, generated = _new_entry(tenant_id, subscription_id, version, SignatureScheme.V1, None)
        changes.update(_signing_fields(entry, version, SignatureScheme.V1))
    item = store.SUBSCRIPTIONS.update(tenant_id, subscription_id, changes, remove=removals or None)
    if item is None:
        if entry is not None:
            signing_secrets.forget(tenant_id, entry.ref, managed=entry.managed)
        raise NotFound(f"Subscription '{subscription_id}' does not exist.")
    fanout.forget_tenant(tenant_id)
    for old in dropped:
        signing_secrets.forget(tenant_id, old.ref, managed=old.managed)
    return to_model(item, generated)


def _checked(tenant_id: str, subscription_id: str, destination: Destination, url_field: str) -> Destination:
    """A webhook's URL passes the URL policy; the platform must be able to write to any other destination for
    this tenant and no other (a real write, ``destinations.access``), or it is a 422 naming the missing permission."""
    if isinstance(destination, WebhookDestination):
        check_url(destination.url, url_field)
    else:
        access.verify(tenant_id, destination, subscription_id)
    return destination


def _signing_fields(entry: SigningSecretEntry, version: int, scheme: SignatureScheme) -> Item:
    return {
        "signingSecretRef": entry.ref,
        "signingSecrets": [entry.model_dump(mode="json", by_alias=True, exclude_none=True)],
        "secretVersion": version,
        "signatureScheme": scheme.value,
    }


def delete(tenant_id: str, subscription_id: str) -> None:
    item = get_item(tenant_id, subscription_id)
    store.SUBSCRIPTIONS.delete(tenant_id, subscription_id)
    fanout.forget_tenant(tenant_id)
    for entry in _entries(item):
        signing_secrets.forget(tenant_id, entry.ref, managed=entry.managed)


def _entries(item: Item) -> list[SigningSecretEntry]:
    return [SigningSecretEntry.model_validate(raw) for raw in item.get("signingSecrets", [])]


def _new_entry(
    tenant_id: str, subscription_id: str, version: int, scheme: SignatureScheme, ref: str | None
) -> tuple[SigningSecretEntry, str | None]:
    """A new signing entry and the secret to show once (none for a caller's ref or a v1a key)."""
    now = now_text()
    if scheme is SignatureScheme.V1A:
        if ref:
            message = "v1a keys are generated by the platform; leave signingSecretRef out"
            raise ValidationFailed(message + ".", [FieldError("signingSecretRef", message)])
        key_ref, public_key = signing_secrets.store_generated_key(tenant_id, subscription_id, version)
        return SigningSecretEntry(ref=key_ref, managed=True, public_key=public_key, created_at=now), None
    if ref:
        return SigningSecretEntry(ref=signing_secrets.check_ref(tenant_id, ref), managed=False, created_at=now), None
    secret_ref, generated = signing_secrets.store_generated(tenant_id, subscription_id, version)
    return SigningSecretEntry(ref=secret_ref, managed=True, created_at=now), generated


def public_keys(tenant_id: str, subscription_id: str) -> PublicKey:
    """The keys a receiver verifies ``v1a`` with, oldest first; a v1 subscription has none."""
    item = get_item(tenant_id, subscription_id)
    now = datetime.now(UTC)
    entries = [
        PublicKeyEntry(public_key=e.public_key, created_at=e.created_at, expires_at=e.expires_at)
        for e in _entries(item)
        if e.public_key and (e.expires_at is None or parse_time(e.expires_at) > now)
    ]
    return PublicKey(
        subscription_id=subscription_id,
        signature_scheme=SignatureScheme(item.get("signatureScheme", SignatureScheme.V1)),
        public_key=entries[-1].public_key if entries else None,
        keys=entries,
    )


def active_secret_refs(item: Item, now: datetime) -> list[str]:
    """References that still sign, oldest first, so the newest is last."""
    refs = []
    for entry in _entries(item):
        if entry.expires_at is None or parse_time(entry.expires_at) > now:
            refs.append(entry.ref)
    return refs or [item["signingSecretRef"]]


def rotate(tenant_id: str, subscription_id: str, request: RotateSecretRequest) -> RotatedSecret:
    item = get_item(tenant_id, subscription_id)
    if not target.is_webhook(item):
        raise Conflict(
            f"Subscription '{subscription_id}' delivers to {item['destination']['type']}, which is not signed."
        )
    now = datetime.now(UTC)
    overlap = request.overlap_seconds
    if overlap is None:
        overlap = get_outbound_settings().secret_overlap_seconds
    version = int(item.get("secretVersion", 1)) + 1
    scheme = SignatureScheme(item.get("signatureScheme", SignatureScheme.V1))
    new_entry, generated = _new_entry(tenant_id, subscription_id, version, scheme, request.signing_secret_ref)
    expires = format_time(now + timedelta(seconds=overlap))
    kept: list[SigningSecretEntry] = []
    dropped: list[SigningSecretEntry] = []
    for entry in _entries(item):
        if entry.expires_at is None:
            entry.expires_at = expires
        (kept if overlap > 0 and parse_time(entry.expires_at) > now else dropped).append(entry)
    entries = [*kept, new_entry]
    updated = store.SUBSCRIPTIONS.update(
        tenant_id,
        subscription_id,
        {
            "signingSecretRef": new_entry.ref,
            "signingSecrets": [e.model_dump(mode="json", by_alias=True, exclude_none=True) for e in entries],
            "secretVersion": version,
            "updatedAt": format_time(now),
        },
        condition="secretVersion = :previous",
        condition_values={":previous": version - 1},
    )
    if updated is None:
        signing_secrets.forget(tenant_id, new_entry.ref, managed=new_entry.managed)
        raise Conflict("The secret was rotated concurrently; read the subscription and try again.")
    for entry in dropped:
        signing_secrets.forget(tenant_id, entry.ref, managed=entry.managed and entry.ref != new_entry.ref)
    return RotatedSecret(
        subscription_id=subscription_id,
        signing_secret_ref=new_entry.ref,
        signing_secret=generated,
        public_key=new_entry.public_key,
        previous_secret_expires_at=expires if kept else None,
    )


def disable(tenant_id: str, item: Item, reason: str) -> bool:
    """Disable once (the first caller wins) and tell the tenant with an operator event.

    The event id derives from the subscription version the caller read, so
    concurrent records of one batch that saw the same version announce one
    event (receivers dedupe by ``webhook-id``) even if both pass the condition.
    """
    subscription_id = item["subscriptionId"]
    now = now_text()
    version = f"{tenant_id}/{subscription_id}/{item['updatedAt']}"
    announcement = new_event(
        tenant_id,
        catalog.SUBSCRIPTION_DISABLED,
        {
            "subscriptionId": subscription_id,
            "endpointUrl": item.get("endpointUrl"),
            "destination": target.of(item).model_dump(mode="json", by_alias=True),
            "reason": reason,
            "failingSince": item.get("failingSince"),
            "disabledAt": now,
        },
        source="platform.webhooks",
        event_id="evt-" + hashlib.sha256(version.encode()).hexdigest()[:20],
    )
    disabled = store.SUBSCRIPTIONS.update_entry(
        tenant_id,
        subscription_id,
        {
            "status": SubscriptionStatus.DISABLED,
            "active": False,
            "disabledAt": now,
            "disabledReason": reason,
            "updatedAt": now,
        },
        condition="active = :on",
        condition_values={":on": True},
    )
    if not commit(disabled, announcement):
        return False
    fanout.forget_tenant(tenant_id)
    return True
