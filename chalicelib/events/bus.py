"""The platform's EventBridge bus: platform events out on request, other services' events in.

Out: nothing is put on ``<prefix>-events`` by default (issue 22). A tenant who
wants platform events there subscribes with an ``eventbridge`` destination
naming the bus's ARN (``GET /events/bus``, ``describe``); the dispatcher puts
each event there with ``source`` the platform and ``detail-type`` the event
type (``chalicelib.destinations.delivery``).

In: a rule on the same bus matches events from any ``source`` but the
platform's whose detail names a ``tenantId`` and a ``type``, and sends them to
the bus-events queue; ``receive`` records each as a platform event of that
tenant (its id derived from EventBridge's, so a redelivered message records it
once), and the stream fans it out to subscriptions like any other. What the
platform itself puts on the bus never matches that rule, so nothing loops.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from chalicelib.core.config import get_settings
from chalicelib.core.logging import logger
from chalicelib.events.emit import emit
from chalicelib.events.models import EventBus, PlatformEvent

SOURCE = "integration-platform"
ORIGIN = "eventbridge"
TENANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")
EVENT_TYPE = re.compile(r"^[A-Za-z][A-Za-z0-9_.:-]{0,127}$")


class BusEventRejected(ValueError):
    """An event from the bus that names no valid tenant, type or data: logged and counted, not recorded."""


def describe() -> EventBus:
    """The bus a tenant aims an ``eventbridge`` destination at to get platform events there."""
    settings = get_settings()
    return EventBus(
        event_bus_arn=settings.event_bus_arn,
        event_bus_name=settings.event_bus_name,
        region=settings.region,
        source=SOURCE,
    )


def receive(message: dict[str, Any]) -> PlatformEvent:
    """Record one EventBridge event (as delivered by the rule's SQS target) as a platform event."""
    body = message.get("detail")
    if not isinstance(body, dict):
        raise BusEventRejected("the detail is not an object")
    tenant_id, event_type, data = body.get("tenantId"), body.get("type"), body.get("data", {})
    if not isinstance(tenant_id, str) or not TENANT.match(tenant_id):
        raise BusEventRejected("detail.tenantId is missing or not a tenant id")
    if not isinstance(event_type, str) or not EVENT_TYPE.match(event_type):
        raise BusEventRejected("detail.type is missing or not an event type")
    if not isinstance(data, dict):
        raise BusEventRejected("detail.data is not an object")
    source = str(message.get("source") or "eventbridge")[:128]
    material = f"{tenant_id}/{message.get('id') or json.dumps(message, sort_keys=True)}"
    event_id = "evt-" + hashlib.sha256(material.encode()).hexdigest()[:24]
    event = emit(tenant_id, event_type, data, source=f"eventbridge:{source}", event_id=event_id, origin=ORIGIN)
    logger.info("event received from the bus", extra={"eventId": event.event_id, "source": source})
    return event
