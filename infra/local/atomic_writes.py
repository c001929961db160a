"""Make moto's DynamoDB writes atomic, as DynamoDB's are.

DynamoDB evaluates a ``ConditionExpression`` and applies the write as one
atomic step per item. moto checks and writes in plain Python with no lock, so
two threads can both pass ``attribute_not_exists`` and both write: a duplicate
storm then sees two "first" deliveries. The platform's correctness rests on
that atomicity, so the local runtime and the tests serialise moto's DynamoDB
writes with one lock. It changes the fake AWS, never the platform's code.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")
_lock = threading.RLock()


def _serialised(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def write(*args: Any, **kwargs: Any) -> Any:
        with _lock:
            return method(*args, **kwargs)

    write.__atomic__ = True  # type: ignore[attr-defined]
    return write


def make_dynamodb_writes_atomic() -> None:
    """Idempotent: wrapping twice would only nest the same lock."""
    from moto.dynamodb.models import DynamoDBBackend

    for name in _WRITES:
        method = getattr(DynamoDBBackend, name)
        if not getattr(method, "__atomic__", False):
            setattr(DynamoDBBackend, name, _serialised(method))
