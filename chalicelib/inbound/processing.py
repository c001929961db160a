"""The consumer side of an inbound delivery: its event recorded, then the delivery marked ``Processed``.

Apart from ``service`` (the request path: verification, connections, providers)
so the inbound-events function imports only what it runs; ``tests/core/test_handler.py``
keeps it so.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from chalicelib.core.logging import logger
from chalicelib.core.timestamps import now_text
from chalicelib.events import store as events
from chalicelib.events.emit import new_event
from chalicelib.inbound import delivery_status, handoff, store
from chalicelib.inbound.models import Delivery, DeliveryStatus
from chalicelib.stats import record as stats


def process(message: Mapping[str, Any]) -> str | None:
    """Consumer side: the delivery's event is recorded, then the delivery becomes ``Processed``.

    Two conditional writes, not a transaction (which bills every unit twice, and the delivery's update
    rewrites its whole payload): the event first, its id derived from the delivery's, so a retry after a
    failure between the two finds it recorded (the put's condition), writes no second one, and only
    marks the delivery. Until that mark the delivery stays ``Received``, so SQS's retry, the sweeper's
    re-send or the dead-letter consumer (which marks a delivery whose event exists ``Processed``, not
    ``Failed``) finishes it; nothing is fanned out twice, because only the event's insert reaches the
    stream. The message carries what the event is made of (``handoff``), so nothing is read. The event
    references the delivery's payload instead of storing it again (``chalicelib.events.store``) and
    expires with the delivery; a payload too large for a webhook stays on the delivery only
    (``payloadOmitted``). An ids-only message (the earlier shape) reads the delivery first.
    """
    carried = handoff.parse(message)
    delivery: Delivery | None = None
    if carried is None:
        tenant_id, delivery_id = str(message["tenantId"]), str(message["deliveryId"])
        delivery = store.get(tenant_id, delivery_id)
        if delivery is None:
            logger.warning("queued delivery no longer exists", extra={"delivery_id": delivery_id})
            return None
        if delivery.status == DeliveryStatus.PROCESSED:
            return delivery.event_id or handoff.event_id_for(delivery_id)
        carried = handoff.Handoff.of(delivery)
    if carried.expires_at is not None and carried.expires_at <= time.time():
        # An old message (an operator's DLQ move) for a delivery past its retention: nothing to announce.
        logger.warning("queued delivery has expired; not processed", extra={"delivery_id": carried.delivery_id})
        return None
    event_id = handoff.event_id_for(carried.delivery_id)
    event = new_event(
        carried.tenant_id,
        carried.event_type,
        carried.event_data(),
        source=f"inbound:{carried.provider_id}",
        event_id=event_id,
        expires_at=carried.expires_at,
    )
    if carried.provider_id in delivery_status.READERS:  # a status notification: its run needs the payload
        delivery = delivery or store.get(carried.tenant_id, carried.delivery_id)
        if delivery is not None:
            delivery_status.record(delivery)
    events.insert(event, payload_from=None if carried.payload_omitted else carried.delivery_id)
    if not store.mark_processed(carried.tenant_id, carried.delivery_id, event_id, now_text()):
        logger.info("delivery already processed, or gone", extra={"delivery_id": carried.delivery_id})
        return event_id
    stats.record(stats.for_connection(carried.tenant_id, carried.connection_id).inbound("accepted"))
    return event_id
