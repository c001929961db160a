"""The inbound-events queue message: everything the consumer needs but the payload.

The API knows at receipt what the delivery's event is made of (tenant,
connection, provider, the vendor's ids, the normalized type, the expiry, and
whether the payload is too large to travel in an event), so the message
carries it and the consumer commits the event with no read: the event
references the stored payload (``chalicelib.events.store``), and the message
stays small (a few hundred bytes; never the payload) under SQS's 256 KB.

A message of the earlier shape (ids only: ``tenantId``, ``deliveryId``,
``traceId``), as a DLQ move by ``infra.ops.redrive`` may bring back, is still
taken: ``parse`` returns ``None`` and the consumer reads the delivery instead.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.core import jsontext
from chalicelib.inbound.models import Delivery

# A payload beyond this stays on the delivery only: the event is also an SQS message and an
# EventBridge entry (256 KB each).
MAX_EVENT_PAYLOAD = 200 * 1024


def event_id_for(delivery_id: str) -> str:
    """The delivery's event id: derived, so every try of the consumer records the same event."""
    return f"evt-{hashlib.sha256(delivery_id.encode()).hexdigest()[:24]}"


@dataclass(frozen=True)
class Handoff:
    """What becomes the delivery's event."""

    tenant_id: str
    delivery_id: str
    connection_id: str
    provider_id: str
    provider_delivery_id: str
    event_name: str
    event_type: str
    expires_at: int | None
    payload_omitted: bool

    @classmethod
    def of(cls, delivery: Delivery) -> Handoff:
        return cls(
            tenant_id=delivery.tenant_id,
            delivery_id=delivery.delivery_id,
            connection_id=delivery.connection_id,
            provider_id=delivery.provider_id,
            provider_delivery_id=delivery.provider_delivery_id,
            event_name=delivery.event_name,
            event_type=delivery.normalized_event_type,
            expires_at=delivery.expires_at,
            payload_omitted=len(jsontext.dumps(delivery.payload)) > MAX_EVENT_PAYLOAD,
        )

    def event_data(self) -> dict[str, Any]:
        """The event's ``data`` but its ``payload`` (which the event references on the delivery)."""
        data: dict[str, Any] = {
            "deliveryId": self.delivery_id,
            "connectionId": self.connection_id,
            "providerId": self.provider_id,
            "providerDeliveryId": self.provider_delivery_id,
            "eventName": self.event_name,
        }
        if self.payload_omitted:
            data["payloadOmitted"] = True
        return data


def message(delivery: Delivery) -> dict[str, Any]:
    """The queue message for ``delivery`` (the API's hand-off, the sweeper's re-send, a redrive)."""
    handoff = Handoff.of(delivery)
    return {
        "tenantId": handoff.tenant_id,
        "traceId": delivery.trace_id,
        "eventType": handoff.event_type,
        "expiresAt": handoff.expires_at,
        **handoff.event_data(),
    }


def parse(body: Mapping[str, Any]) -> Handoff | None:
    """The handoff a message carries; ``None`` for the ids-only shape (the consumer then reads the delivery)."""
    if "eventType" not in body:
        return None
    expires = body.get("expiresAt")
    return Handoff(
        tenant_id=str(body["tenantId"]),
        delivery_id=str(body["deliveryId"]),
        connection_id=str(body["connectionId"]),
        provider_id=str(body["providerId"]),
        provider_delivery_id=str(body["providerDeliveryId"]),
        event_name=str(body["eventName"]),
        event_type=str(body["eventType"]),
        expires_at=int(expires) if expires is not None else None,
        payload_omitted=bool(body.get("payloadOmitted")),
    )
