"""Small steps the outbound tests share: subscribe a receiver, publish, read attempts, fail an AWS call once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib.core import aws
from chalicelib.events import store as events
from chalicelib.outbound.models import DeliveryStatus
from chalicelib.outbound.recovery import delivery_status
from tests.outbound.conftest import QueueDriver
from tests.support.api_client import ApiClient
from tests.support.receiver import Receiver


def subscribe(client: ApiClient, receiver: Receiver, types: list[str], **fields: Any) -> dict[str, Any]:
    reply = client.post("/webhooks/subscriptions", {"eventTypes": types, "endpointUrl": receiver.url, **fields})
    assert reply.status == 201, reply.json
    body: dict[str, Any] = reply.json
    if body.get("signingSecret"):
        receiver.trust(body["signingSecret"])
    return body


def publish(client: ApiClient, event_type: str, data: dict[str, Any], key: str | None = None) -> dict[str, Any]:
    headers = {"Idempotency-Key": key} if key else {}
    reply = client.post("/events", {"type": event_type, "data": data}, headers=headers)
    assert reply.status in (200, 201), reply.json
    body: dict[str, Any] = reply.json
    return body


def attempts(client: ApiClient, subscription_id: str, limit: int = 100) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor = ""
    while True:
        query = f"?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        reply = client.get(f"/webhooks/subscriptions/{subscription_id}/attempts{query}")
        assert reply.status == 200, reply.json
        found.extend(reply.json["items"])
        cursor = reply.json.get("nextCursor") or ""
        if not cursor:
            return found


def statuses(tenant: str, event_id: str) -> list[DeliveryStatus]:
    """``GET /events/{id}``'s deliveries: the event's latest status at each subscription."""
    event = events.get(tenant, event_id)
    assert event is not None, event_id
    return delivery_status(tenant, event)


def all_accepted(receiver: Receiver, expected: set[str]) -> Callable[[], bool]:
    return lambda: expected <= receiver.accepted_ids


def fail_first(service: Any, operation: str, times: int = 1, *, after: bool = False) -> Callable[[], None]:
    """Make the next ``times`` ``operation`` calls of ``service`` fail, before they are sent (``after``: once AWS
    has done them, their answer lost, as a timeout after the request went through); returns the undo."""
    from botocore.exceptions import ClientError

    left = [times]

    def refuse(**_: Any) -> None:
        if left[0]:
            left[0] -= 1
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "injected"}}, operation)

    hooks = service.meta.events
    event_name = f"{'after' if after else 'before'}-call.{service.meta.service_model.service_name}.{operation}"
    hooks.register(event_name, refuse, unique_id=f"fail-first-{operation}")
    return lambda: hooks.unregister(event_name, unique_id=f"fail-first-{operation}")


def dispatch_queued(driver: QueueDriver) -> None:
    """Run the dispatcher over what is queued now, without reading the stream first."""
    while messages := [
        dict(m) for m in aws.sqs().receive_message(QueueUrl=driver.url, MaxNumberOfMessages=10).get("Messages", [])
    ]:
        driver.invoke(messages)
