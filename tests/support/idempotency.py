"""Faults placed around a keyed create: its idempotency record failing to save, or the Lambda dying mid-request."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from chalicelib.core import aws
from chalicelib.core.config import get_settings
from tests.support.api_client import Reply
from tests.support.crashes import crash_points
from tests.support.refusals import client_error, refused


def table() -> str:
    return get_settings().table_name("idempotency")


@contextmanager
def record_not_saved() -> Iterator[list[dict[str, Any]]]:
    """Saving a finished request's response (powertools' ``UpdateItem``) fails as a throttled table would,
    after the request's effect is done; the refused calls are yielded."""
    error = lambda: client_error("ProvisionedThroughputExceededException")  # noqa: E731
    with refused(aws.dynamodb(), "UpdateItem", error, when=lambda params: params["TableName"] == table()) as calls:
        yield calls


def expire_in_progress() -> int:
    """What the end of a dead invocation does: its in-progress records expire (their deadline is the Lambda's)."""
    client = aws.dynamodb()
    expired = 0
    for item in client.scan(TableName=table())["Items"]:
        if item.get("status", {}).get("S") == "INPROGRESS":
            client.update_item(
                TableName=table(),
                Key={"id": item["id"]},
                UpdateExpression="SET in_progress_expiration = :past",
                ExpressionAttributeValues={":past": {"N": "1"}},
            )
            expired += 1
    return expired


def crash_then_repeat(
    post: Callable[[str], Reply], prefix: str, repeat: Callable[[str], Reply] | None = None
) -> tuple[list[str], list[tuple[str, Reply]]]:
    """Send a keyed request that dies after its 1st, 2nd, ... AWS call, a new key each time; after each death
    its in-progress record expires and the same request, same key, is sent again (by ``repeat`` if given).

    Returns every key used (the last one's request ran to the end) and each repeat's key and reply.
    """
    numbers = itertools.count(1)
    keys: list[str] = []

    def attempt() -> None:
        keys.append(f"{prefix}-{next(numbers)}")
        post(keys[-1])

    repeats = []
    for _ in crash_points(attempt):
        expire_in_progress()
        repeats.append((keys[-1], (repeat or post)(keys[-1])))
    return keys, repeats
