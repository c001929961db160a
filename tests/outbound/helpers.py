"""Small steps the outbound tests share: subscribe a receiver, publish, read attempts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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


def all_accepted(receiver: Receiver, expected: set[str]) -> Callable[[], bool]:
    return lambda: expected <= receiver.accepted_ids
