"""Make moto's DynamoDB writes atomic, as DynamoDB's are.

DynamoDB evaluates a ``ConditionExpression`` and applies the write as one
atomic step per item. moto checks and writes in plain Python with no lock, so
two threads can both pass ``attribute_not_exists`` and both write: a duplicate
storm then sees two "first" deliveries. The platform's correctness rests on
that atomicity, so the local runtime and the tests serialise moto's DynamoDB
writes with one lock. It changes the fake AWS, never the platform's code.

moto's ``TransactWriteItems`` also deep-copies every table it touches before
writing, to roll back on failure: its cost grows with the table, so every
state change (one transaction with its event) slowed as the events table
filled (0.4 s each at a few thousand items). Under the lock a transaction can
check every condition first and write only when all hold, as DynamoDB does,
so no copy is needed.

moto's Secrets Manager is not thread-safe either: its secret store is a dict that
one request iterates while another deletes from it ("dictionary changed size
during iteration"), so concurrent rotations of one subscription's secret could
answer 500 locally. ``make_secrets_manager_thread_safe`` serialises its calls.
"""

from __future__ import annotations

import functools
import inspect
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


def _key(backend: Any, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type != "Put":
        return dict(op["Key"])
    table = backend.get_table(op["TableName"])
    attrs = op["Item"]
    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attrs[table.range_key_attr]
    return key


def _transact_write_items(backend: Any, transact_items: list[dict[str, Any]]) -> None:
    """All conditions checked, then all writes applied: no table copies (called under the write lock)."""
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import (
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )

    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    seen: set[tuple[str, str]] = set()
    reasons: list[tuple[Any, Any, Any]] = []
    steps = []
    for item in transact_items:
        if len(item) > 1:
            raise TransactWriteSingleOpException
        op_type, op = next(iter(item.items()))
        if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
            raise ValueError("Unsupported transaction operation")
        key = _key(backend, op_type, op)
        target = (str(op["TableName"]), str(dict(sorted(key.items()))))
        if target in seen:
            raise MultipleTransactionsException()
        seen.add(target)
        current = backend.get_item(op["TableName"], key)
        condition = op.get("ConditionExpression")
        names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
        if condition is not None and not get_filter_expression(condition, names, values).expr(current):
            old = current.to_json()["Attributes"] if current and op.get("ReturnValuesOnConditionCheckFailure") else None
            reasons.append(("ConditionalCheckFailed", "The conditional request failed", old))
        else:
            reasons.append((None, None, None))
        steps.append((op_type, op, key))
    if any(code is not None for code, _, _ in reasons):
        raise TransactionCanceledException(reasons)
    for op_type, op, key in steps:
        names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
        if op_type == "Put":
            backend.put_item(op["TableName"], op["Item"], expression_attribute_names=names)
        elif op_type == "Delete":
            backend.delete_item(op["TableName"], key)
        elif op_type == "Update":
            backend.update_item(
                op["TableName"],
                key,
                update_expression=op["UpdateExpression"],
                expression_attribute_names=names,
                expression_attribute_values=values,
            )


def make_dynamodb_writes_atomic() -> None:
    """Idempotent: wrapping twice would only nest the same lock."""
    from moto.dynamodb.models import DynamoDBBackend

    if not getattr(DynamoDBBackend.transact_write_items, "__atomic__", False):
        DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign,assignment]
    for name in _WRITES:
        method = getattr(DynamoDBBackend, name)
        if not getattr(method, "__atomic__", False):
            setattr(DynamoDBBackend, name, _serialised(method))


secrets_lock = threading.RLock()


def make_secrets_manager_thread_safe() -> None:
    """Idempotent: every public method of moto's Secrets Manager backend runs under one lock."""
    from moto.secretsmanager.models import SecretsManagerBackend

    for name, method in list(vars(SecretsManagerBackend).items()):
        if name.startswith("_") or not inspect.isfunction(method) or getattr(method, "__atomic__", False):
            continue

        def locked(*args: Any, __method: Callable[..., Any] = method, **kwargs: Any) -> Any:
            with secrets_lock:
                return __method(*args, **kwargs)

        locked.__atomic__ = True  # type: ignore[attr-defined]
        functools.update_wrapper(locked, method)
        setattr(SecretsManagerBackend, name, locked)
