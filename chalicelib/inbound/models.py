"""Inbound delivery shapes: the 004 envelope and receipt, the stored delivery, the catalog listing."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field

from chalicelib.core.models import RequestModel, WireModel
from chalicelib.core.timestamps import ExpiryEpoch, Timestamp

VendorId = Annotated[str, Field(min_length=1, max_length=256)]


# The queries of the two ingest routes (chalicelib/api/webhooks.py); a run's status callback names its run.
class IngestQuery(WireModel):
    connection_id: Annotated[str, Field(max_length=200)] | None = None


class VendorQuery(WireModel):
    run_id: Annotated[str, Field(max_length=200, pattern=r"^[A-Za-z0-9_-]+$")] | None = None


class DeliveryStatus(StrEnum):
    # Committed with its event (one item: chalicelib.inbound.store); the events stream does the rest.
    PROCESSED = "Processed"
    # It could not be normalized, or its event's fan-out failed past the stream's retries;
    # ``POST .../redrive`` normalizes it again and publishes its event.
    FAILED = "Failed"


class Envelope(RequestModel):
    """The 004 body of ``POST /webhooks/deliveries``."""

    provider_delivery_id: VendorId
    event_name: VendorId
    payload: dict[str, Any]


class DeliveryReceipt(WireModel):
    """The 004 answer: 202 Accepted for a new delivery, 200 Duplicate for a repeat."""

    delivery_id: str
    status: Literal["Accepted", "Duplicate"]
    normalized_event_type: str | None = None  # none for a delivery stored Failed: it could not be normalized
    trace_id: str | None = None


class Delivery(WireModel):
    delivery_id: str
    tenant_id: str
    connection_id: str
    provider_id: str
    provider_delivery_id: str
    event_name: str | None = None  # none while a Failed delivery could not be read
    normalized_event_type: str | None = None
    status: DeliveryStatus
    received_at: Timestamp
    processed_at: Timestamp | None = None
    event_id: str | None = None
    failure_reason: str | None = None
    failed_at: Timestamp | None = None
    redrive_count: int | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    payload: Any = None
    expires_at: ExpiryEpoch | None = None
    trace_id: str | None = None


class DeliveryList(WireModel):
    items: list[Delivery]
    next_cursor: str | None = None


class DeliveryListQuery(WireModel):
    connection_id: Annotated[str, Field(min_length=1, max_length=200)]
    limit: Annotated[int, Field(ge=1, le=100)] = 20
    cursor: str | None = None


class EventTypeRule(WireModel):
    provider: str
    event_name: str
    when: dict[str, Any] = Field(default_factory=dict)
    event_type: str


class EventTypeCatalog(WireModel):
    items: list[EventTypeRule]
    unmapped: str = "<providerKey>.<eventName>"
