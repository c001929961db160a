"""The sparse ``inflight`` index that lets the sweeper find items stuck mid-flight without a Scan.

An item that enters an in-flight state (a run Pending or Running, a rotation Rotating)
gets ``inflightShard`` (one of ``SHARDS``
values from a hash of its id) and ``inflightDeadline`` (epoch seconds, to the
millisecond), the ``inflight`` GSI's keys. Reaching a final state REMOVEs both,
which drops the item from the index, so the index only ever holds what is in
flight now. The sweeper Queries each shard for ``inflightDeadline < now``.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from typing import Any

from chalicelib.core import aws
from chalicelib.core.dynamo import deserialize, serialize

INDEX = "inflight"
SHARD = "inflightShard"
DEADLINE = "inflightDeadline"
SHARDS = 4
# The attributes' REMOVE clause, for the update that moves an item to a final state.
REMOVE = f"REMOVE {SHARD}, {DEADLINE}"


def shard(item_id: str) -> str:
    """A few shards spread a burst of in-flight items over several index partitions."""
    return f"inflight-{int(hashlib.sha256(item_id.encode()).hexdigest()[:8], 16) % SHARDS}"


def deadline(seconds_from_now: float, now: float | None = None) -> float:
    return round((time.time() if now is None else now) + seconds_from_now, 3)


def marker(item_id: str, seconds_from_now: float, now: float | None = None) -> dict[str, Any]:
    """The attributes that put an item in the index, due ``seconds_from_now``."""
    return {SHARD: shard(item_id), DEADLINE: deadline(seconds_from_now, now)}


def due(table: str, now: float, page_size: int, limit: int) -> Iterator[dict[str, Any]]:
    """Keys of items whose deadline passed, shard by shard, at most ``limit`` per shard per sweep.

    The index is eventually consistent and keys-only: callers re-read each item
    (strongly consistent) and act only through conditional writes.
    """
    client = aws.dynamodb()
    for number in range(SHARDS):
        params: dict[str, Any] = {
            "TableName": table,
            "IndexName": INDEX,
            "KeyConditionExpression": "#shard = :shard AND #deadline < :now",
            "ExpressionAttributeNames": {"#shard": SHARD, "#deadline": DEADLINE},
            "ExpressionAttributeValues": serialize({":shard": f"inflight-{number}", ":now": round(now, 3)}),
            "Limit": page_size,
        }
        seen = 0
        while seen < limit:
            response = client.query(**params)
            for raw in response.get("Items", []):
                seen += 1
                yield {k: v for k, v in deserialize(raw).items() if k not in (SHARD, DEADLINE)}
            if "LastEvaluatedKey" not in response:
                break
            params["ExclusiveStartKey"] = response["LastEvaluatedKey"]
