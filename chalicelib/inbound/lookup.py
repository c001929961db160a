"""What a delivery needs before it can be verified, cached in-process for a short time.

Vendors call the public endpoint with only a connection id, so the connection
is found through the ``byConnectionId`` index, then its provider and webhook
secret. Caching them for ``TTL_SECONDS`` keeps a warm delivery to two AWS
calls (the conditional put and the SQS send). The cost is staleness: a
deactivated connection keeps receiving for up to the TTL in warm containers,
and a new secret takes up to the TTL to be seen (the old one keeps verifying
during its overlap anyway).
"""

from __future__ import annotations

import threading
import time
from typing import Generic, TypeVar

from chalicelib.connections.models import Connection
from chalicelib.core import aws
from chalicelib.core.config import get_settings
from chalicelib.core.dynamo import deserialize, serialize
from chalicelib.providers import service as providers
from chalicelib.providers.models import Provider

TTL_SECONDS = 30.0
MAX_ENTRIES = 2048
CONNECTION_INDEX = "byConnectionId"

K = TypeVar("K")
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    """Positive answers only, bounded: an id nobody owns is never remembered."""

    def __init__(self, ttl: float) -> None:
        self._ttl = ttl
        self._entries: dict[K, tuple[float, V]] = {}
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or entry[0] <= time.monotonic():
            return None
        return entry[1]

    def put(self, key: K, value: V) -> None:
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.pop(next(iter(self._entries)))
            self._entries[key] = (time.monotonic() + self._ttl, value)

    def forget(self, key: K) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_connections: TtlCache[str, Connection] = TtlCache(TTL_SECONDS)
_providers: TtlCache[tuple[str, str], Provider] = TtlCache(TTL_SECONDS)


def connection(connection_id: str) -> Connection | None:
    cached = _connections.get(connection_id)
    if cached is not None:
        return cached
    if not connection_id or len(connection_id) > 200:
        return None
    response = aws.dynamodb().query(
        TableName=get_settings().table_name("connections"),
        IndexName=CONNECTION_INDEX,
        KeyConditionExpression="connectionId = :c",
        ExpressionAttributeValues=serialize({":c": connection_id}),
        Limit=1,
    )
    items = response.get("Items", [])
    if not items:
        return None
    found = Connection.model_validate(deserialize(items[0]))
    _connections.put(connection_id, found)
    return found


def provider(tenant_id: str, provider_id: str) -> Provider | None:
    key = (tenant_id, provider_id)
    cached = _providers.get(key)
    if cached is not None:
        return cached
    found = providers.find(tenant_id, provider_id)
    if found is not None:
        _providers.put(key, found)
    return found


def forget_connection(connection_id: str) -> None:
    """This process sees a change at once; other warm containers within ``TTL_SECONDS``."""
    _connections.forget(connection_id)
