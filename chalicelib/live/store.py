"""The live connections table: one item per open socket, keyed by its tenant, gone by TTL.

API Gateway names a socket by its connection id alone, so a message or a
disconnect finds the item through the keys-only ``byConnectionId`` index and
then reads or updates it by its tenant-first key. An item expires (TTL) when
API Gateway would have closed the socket anyway (2 hours) or the token that
opened it expires, whichever is first, so a socket whose ``$disconnect`` never
ran is not pushed to for long (and a push to it answers 410 and deletes it).

The stream handler asks which sockets a tenant has once per ``CACHE_SECONDS``
per container (``tenant_sockets``): with no socket open that is one small
Query per tenant per second, not one per event. The trade (docs/live.md): a
socket that subscribes may miss what its tenant's events stream carried in the
first second; ``ipctl listen`` replays from the events API to cover it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from chalicelib.core import aws
from chalicelib.core.dynamo import Item, Table, deserialize, serialize
from chalicelib.live.frames import Subscription

TABLE = Table("live-connections", sort_key="connectionId")
BY_CONNECTION = "byConnectionId"
MAX_SOCKET_SECONDS = 2 * 3600  # API Gateway closes every WebSocket connection after 2 hours
WINDOW_SECONDS = 60
CACHE_SECONDS = 1.0
COUNTER_NAMES = {"#m": "messages", "#w": "messageWindow"}  # named, so no DynamoDB reserved word can bite


@dataclass
class Socket:
    tenant_id: str
    connection_id: str
    subject: str
    expires_at: int
    token_expires_at: int | None = None
    subscriptions: list[Subscription] = field(default_factory=list)
    messages: int = 0

    @classmethod
    def of(cls, item: Item) -> Socket:
        token_expiry = item.get("tokenExpiresAt")
        return cls(
            tenant_id=str(item["tenantId"]),
            connection_id=str(item["connectionId"]),
            subject=str(item.get("subject", "")),
            expires_at=int(item["expiresAt"]),
            token_expires_at=int(token_expiry) if token_expiry is not None else None,
            subscriptions=[Subscription.model_validate(s) for s in item.get("subscriptions", [])],
            messages=int(item.get("messages", 0)),
        )

    def token_expired(self, now: float) -> bool:
        return self.token_expires_at is not None and self.token_expires_at <= now


def open_socket(tenant_id: str, connection_id: str, subject: str, token_expires_at: int | None, now: float) -> Socket:
    expires_at = int(now) + MAX_SOCKET_SECONDS
    if token_expires_at is not None:
        expires_at = min(expires_at, token_expires_at)
    item: Item = {
        "tenantId": tenant_id,
        "connectionId": connection_id,
        "subject": subject,
        "expiresAt": expires_at,
        "subscriptions": [],
    }
    if token_expires_at is not None:
        item["tokenExpiresAt"] = token_expires_at
    TABLE.put(item)
    forget(tenant_id)
    return Socket.of(item)


def tenant_of(connection_id: str) -> str | None:
    """The tenant a socket belongs to (the keys-only index), or None when it is not (or no longer) stored."""
    found = aws.dynamodb().query(
        TableName=TABLE.name,
        IndexName=BY_CONNECTION,
        KeyConditionExpression="connectionId = :c",
        ExpressionAttributeValues={":c": {"S": connection_id}},
        Limit=1,
    )
    items = found.get("Items") or []
    return str(deserialize(items[0])["tenantId"]) if items else None


def count_message(tenant_id: str, connection_id: str, now: float) -> Socket | None:
    """Count one client frame in the socket's minute window and return the socket; None when it is gone.

    One UpdateItem in the common case (the same window); the first frame of a new window starts it afresh.
    """
    window = int(now) // WINDOW_SECONDS
    key = TABLE.key(tenant_id, connection_id)
    try:  # the same window: one more frame
        response = _count(key, window, "ADD #m :one", "attribute_exists(connectionId) AND #w = :w")
    except aws.dynamodb().exceptions.ConditionalCheckFailedException:
        try:  # a new window (or the socket is gone)
            response = _count(key, window, "SET #m = :one, #w = :w", "attribute_exists(connectionId)")
        except aws.dynamodb().exceptions.ConditionalCheckFailedException:
            return None
    return Socket.of(deserialize(response))


def _count(key: dict[str, Any], window: int, update: str, condition: str) -> Item:
    """The socket's item after ``update`` under ``condition`` (the frame counter of ``count_frame``)."""
    return aws.dynamodb().update_item(
        TableName=TABLE.name,
        Key=key,
        UpdateExpression=update,
        ConditionExpression=condition,
        ExpressionAttributeNames=COUNTER_NAMES,
        ExpressionAttributeValues=serialize({":one": 1, ":w": window}),
        ReturnValues="ALL_NEW",
    )["Attributes"]


def save_subscriptions(socket: Socket) -> bool:
    """Store the socket's subscriptions; False when the socket is gone."""
    stored = [s.model_dump(mode="json", by_alias=True, exclude_none=True) for s in socket.subscriptions]
    saved = TABLE.update(socket.tenant_id, socket.connection_id, {"subscriptions": stored}) is not None
    forget(socket.tenant_id)
    return saved


def close_socket(tenant_id: str, connection_id: str) -> None:
    TABLE.delete(tenant_id, connection_id)
    forget(tenant_id)


_cache: dict[str, tuple[float, list[Socket]]] = {}
_cache_lock = threading.Lock()


def tenant_sockets(tenant_id: str) -> list[Socket]:
    """The tenant's sockets with at least one subscription, as read at most ``CACHE_SECONDS`` ago here."""
    now = time.monotonic()
    with _cache_lock:
        cached = _cache.get(tenant_id)
    if cached is not None and now - cached[0] < CACHE_SECONDS:
        return cached[1]
    sockets: list[Socket] = []
    cursor: str | None = None
    while True:
        page = TABLE.query(tenant_id, limit=100, cursor=cursor)
        sockets.extend(s for s in (Socket.of(item) for item in page.items) if s.subscriptions)
        cursor = page.next_cursor
        if cursor is None:
            break
    with _cache_lock:
        _cache[tenant_id] = (now, sockets)
    return sockets


def forget(tenant_id: str | None = None) -> None:
    """Drop this container's cached sockets (one tenant's, or all): a change made here is seen at once here."""
    with _cache_lock:
        if tenant_id is None:
            _cache.clear()
        else:
            _cache.pop(tenant_id, None)
