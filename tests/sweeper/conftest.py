"""What the sweeper tests share: a sweep at a chosen moment, and whether an item is in the inflight index."""

from __future__ import annotations

import time
from typing import Any

from chalicelib.core import aws, inflight
from chalicelib.core.dynamo import serialize
from tests.runs.conftest import handler, vendor

__all__ = ["handler", "vendor"]  # the runs fixtures: the fake vendor and the real runs SQS handler


def later(seconds: float) -> float:
    """A moment ``seconds`` from now: sweeping then acts on what is due by then, without waiting."""
    return time.time() + seconds


def indexed(table: str, key: dict[str, Any]) -> bool:
    """Whether the item carries the inflight index keys (the index is sparse: no keys, not in it)."""
    item = aws.dynamodb().get_item(TableName=table, Key=serialize(key), ConsistentRead=True).get("Item", {})
    return inflight.SHARD in item and inflight.DEADLINE in item


def due_keys(table: str, now: float) -> list[dict[str, Any]]:
    return list(inflight.due(table, now, page_size=100, limit=10_000))
