"""Every AWS call a process makes on moto, with the capacity units each DynamoDB call would consume.

moto answers ``ReturnConsumedCapacity`` with fixed figures, so the units are
*computed from item sizes*, by DynamoDB's published rules, from the items in
moto's tables just before and just after each call:

- a write costs one WRU per KB of the larger of the item before and after it
  (at least one; a delete, the item deleted; a failed condition, the item it was
  checked against), twice that inside ``TransactWriteItems``;
- every global secondary index the item is in, was in, or moves in costs one
  more write per KB of its projection (a delete plus a put when the index key
  changes; nothing when no projected attribute changed);
- a read costs one RRU per 4 KB read (``GetItem`` and ``BatchGetItem`` per
  item, ``Query`` over the page), half that when eventually consistent.

Item sizes follow DynamoDB's sizing (attribute names plus values; numbers by
their digits, binary by its bytes, 3 bytes plus 1 per element for lists and
maps), so a figure is within a few bytes of what DynamoDB bills.

Calls are counted through botocore's event hooks on the clients from
``chalicelib.core.aws`` (and on any other client handed to ``watch``), under the
phase the caller names, so a bench or a test can tell whose call it was.

The same hooks keep the CPU time a watched call spends *outside* the function
(``outside_cpu``): moto answering in the caller's thread (from ``before-send``
to ``before-parse``, where AWS would be across the network) and this meter's own
sizing. ``bench.pipeline`` subtracts it, so a handler is billed for its own CPU:
botocore's serializing, signing and parsing stay in, as they run in Lambda.
"""

from __future__ import annotations

import base64
import copy
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from bench import prices

ACCOUNT = "123456789012"
_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}


@dataclass
class Call:
    """One AWS API call: who made it, what it was, what it consumed."""

    phase: str
    operation: str
    wru: float = 0.0
    rru: float = 0.0
    # billed units: SQS requests, EventBridge entries and SNS publishes per 64 KB chunk; Kinesis KB of records
    chunks: int = 1


@dataclass
class Meter:
    """Counts calls per phase; ``phase`` says whose calls follow (set by the bench or the test)."""

    region: str = "us-east-1"
    phase: str = "-"
    calls: list[Call] = field(default_factory=list)
    outside_cpu: float = 0.0  # seconds of CPU spent in moto and in this meter, every thread together
    _pending: threading.local = field(default_factory=threading.local)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def watch(self, *clients: Any) -> None:
        for client in clients:
            self._hook(client.meta.events)

    def watch_platform(self) -> None:
        """The platform's clients, and every client its Session makes from now on (a tenant's role session
        shares the Session's hooks, so a destination's writes are counted too)."""
        from chalicelib.core import aws

        self._hook(aws.session().events)
        self.watch(aws.dynamodb(), aws.sqs(), aws.secretsmanager(), aws.events(), aws.sns())

    def _hook(self, events: Any) -> None:
        """Register once per emitter (a client's emitter is a copy of its Session's, hooks included)."""
        events.register("before-parameter-build", self._before, unique_id=f"meter-before-{id(self)}")
        events.register("after-call", self._after, unique_id=f"meter-after-{id(self)}")
        events.register_first("before-send", self._sending, unique_id=f"meter-sending-{id(self)}")
        events.register("before-parse", self._answered, unique_id=f"meter-answered-{id(self)}")

    @contextmanager
    def as_phase(self, phase: str) -> Iterator[None]:
        previous, self.phase = self.phase, phase
        try:
            yield
        finally:
            self.phase = previous

    def discard(self, unwanted: Callable[[Call], bool]) -> None:
        with self._lock:
            self.calls = [call for call in self.calls if not unwanted(call)]

    def take(self) -> list[Call]:
        with self._lock:
            taken, self.calls = self.calls, []
        return taken

    # botocore hooks -------------------------------------------------------------------------------

    def _outside(self, started: float) -> None:
        spent = time.thread_time() - started
        with self._lock:
            self.outside_cpu += spent

    def _sending(self, **_: Any) -> None:
        self._pending.sending = time.thread_time()

    def _answered(self, **_: Any) -> None:
        sending = getattr(self._pending, "sending", None)
        if sending is not None:
            self._outside(sending)
            self._pending.sending = None

    def _before(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        started = time.thread_time()
        service = model.service_model.service_name
        before = _snapshot(self._tables(), params, model.name) if service == "dynamodb" else None
        self._pending.call = (params, before)
        self._outside(started)

    def _after(self, model: Any, parsed: dict[str, Any], **_: Any) -> None:
        started = time.thread_time()
        try:
            self._count(model, parsed)
        finally:
            self._outside(started)

    def _count(self, model: Any, parsed: dict[str, Any]) -> None:
        service = model.service_model.service_name
        pending: tuple[dict[str, Any], Any] = getattr(self._pending, "call", ({}, None))
        params, before = pending
        call = Call(self.phase, f"{service}.{model.name}")
        if service == "dynamodb":
            failed = "Error" in parsed
            if model.name in _WRITES:
                call.wru = _write_units(self._tables(), params, model.name, before or {}, failed)
            else:
                call.rru = _read_units(params, model.name, parsed)
        elif service == "sqs":
            call.chunks = _sqs_chunks(params, model.name, parsed)
        elif service == "events" and model.name == "PutEvents":
            entries = params.get("Entries", [])
            call.chunks = sum(_chunks(_entry_bytes(e), prices.EVENTBRIDGE_CHUNK_BYTES) for e in entries)
        elif service == "sns":
            call.chunks = _sns_chunks(params, model.name)
        elif service == "kinesis":
            call.chunks = _kinesis_kilobytes(params, model.name)
        with self._lock:
            self.calls.append(call)

    def _tables(self) -> Any:
        from moto.dynamodb.models import dynamodb_backends

        return dynamodb_backends[ACCOUNT][self.region]


# sizes ----------------------------------------------------------------------------------------------


def value_size(value: dict[str, Any]) -> int:
    """One AttributeValue's size, from a request, a parsed response or moto's ``to_json`` (binary in base64)."""
    (kind, inner), *_ = value.items()
    if kind == "S":
        return len(str(inner).encode())
    if kind == "N":
        digits = str(inner).lstrip("-").replace(".", "").lstrip("0") or "0"
        return (len(digits) + 1) // 2 + 1
    if kind == "B":
        return len(base64.b64decode(inner)) if isinstance(inner, str) else len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in inner)
    if kind == "M":
        return 3 + sum(len(k.encode()) + 1 + value_size(v) for k, v in inner.items())
    return sum(value_size({kind[0]: v}) for v in inner)  # SS, NS, BS


def item_size(attributes: dict[str, Any] | None) -> int:
    return sum(len(name.encode()) + value_size(v) for name, v in (attributes or {}).items())


def _chunks(size: int, chunk: int) -> int:
    return max(1, math.ceil(size / chunk))


# writes ---------------------------------------------------------------------------------------------


def _targets(params: dict[str, Any], operation: str) -> list[tuple[str, dict[str, Any], int]]:
    """``(table, key or item, multiplier)`` for every item a write touches."""
    if operation == "PutItem":
        return [(params["TableName"], params["Item"], 1)]
    if operation in ("UpdateItem", "DeleteItem"):
        return [(params["TableName"], params["Key"], 1)]
    if operation == "TransactWriteItems":
        found = []
        for entry in params["TransactItems"]:
            (kind, body), *_ = entry.items()
            found.append((body["TableName"], body["Item"] if kind == "Put" else body["Key"], 2))
        return found
    found = []
    for table, requests in params.get("RequestItems", {}).items():
        for request in requests:
            put = request.get("PutRequest")
            found.append((table, put["Item"] if put else request["DeleteRequest"]["Key"], 1))
    return found


def _moto_item(backend: Any, table_name: str, key: dict[str, Any]) -> dict[str, Any] | None:
    from moto.dynamodb.models.dynamo_type import DynamoType

    table = backend.get_table(table_name)
    range_value = key.get(table.range_key_attr) if table.range_key_attr else None
    try:
        item = table.get_item(DynamoType(key[table.hash_key_attr]), DynamoType(range_value) if range_value else None)
    except KeyError:
        return None
    if item is None:
        return None
    attributes: dict[str, Any] = copy.deepcopy(item.to_json()["Attributes"])
    return attributes


def _snapshot(backend: Any, params: dict[str, Any], operation: str) -> dict[tuple[str, str], Any] | None:
    if operation not in _WRITES:
        return None
    return {
        (table, repr(sorted(key.items()))): _moto_item(backend, table, key)
        for table, key, _ in _targets(params, operation)
    }


def _projection(index: Any, table: Any, item: dict[str, Any] | None) -> dict[str, Any] | None:
    """The item as the index holds it, or None when it is not in the (sparse) index."""
    keys = [k["AttributeName"] for k in index.schema]
    if item is None or any(k not in item for k in keys):
        return None
    kind = index.projection.get("ProjectionType", "ALL")
    if kind == "ALL":
        return item
    wanted = {table.hash_key_attr, table.range_key_attr, *keys}
    if kind == "INCLUDE":
        wanted |= set(index.projection.get("NonKeyAttributes", []))
    return {name: value for name, value in item.items() if name in wanted}


def _index_units(table: Any, before: dict[str, Any] | None, after: dict[str, Any] | None) -> float:
    units = 0.0
    for index in table.global_indexes:
        old, new = _projection(index, table, before), _projection(index, table, after)
        keys = [k["AttributeName"] for k in index.schema]
        if old == new:
            continue
        if old is not None and new is not None and all(old[k] == new[k] for k in keys):
            units += _chunks(item_size(new), 1024)
            continue
        units += _chunks(item_size(old), 1024) if old is not None else 0
        units += _chunks(item_size(new), 1024) if new is not None else 0
    return units


def _write_units(
    backend: Any, params: dict[str, Any], operation: str, before: dict[tuple[str, str], Any], failed: bool
) -> float:
    units = 0.0
    for table_name, key, multiplier in _targets(params, operation):
        old = before.get((table_name, repr(sorted(key.items()))))
        if failed:
            units += multiplier * _chunks(item_size(old), 1024)
            continue
        new = _moto_item(backend, table_name, key)
        units += multiplier * _chunks(max(item_size(old), item_size(new)), 1024)
        units += _index_units(backend.get_table(table_name), old, new)
    return units


# reads ----------------------------------------------------------------------------------------------


def _read_units(params: dict[str, Any], operation: str, parsed: dict[str, Any]) -> float:
    consistent = 1.0 if params.get("ConsistentRead") else 0.5
    if operation == "GetItem":
        return consistent * _chunks(item_size(parsed.get("Item")), 4096)
    if operation in ("Query", "Scan"):
        return consistent * _chunks(sum(item_size(i) for i in parsed.get("Items", [])), 4096)
    if operation == "BatchGetItem":
        units = 0.0
        for table, items in parsed.get("Responses", {}).items():
            strong = 1.0 if params["RequestItems"][table].get("ConsistentRead") else 0.5
            units += sum(strong * _chunks(item_size(i), 4096) for i in items)
        return units
    if operation == "TransactGetItems":
        return sum(2.0 * _chunks(item_size(r.get("Item")), 4096) for r in parsed.get("Responses", []))
    return 0.0


# SQS, EventBridge, SNS and Kinesis ---------------------------------------------------------------------------------


def _sqs_chunks(params: dict[str, Any], operation: str, parsed: dict[str, Any]) -> int:
    if operation == "SendMessage":
        return _chunks(len(params.get("MessageBody", "").encode()), prices.SQS_CHUNK_BYTES)
    if operation == "SendMessageBatch":
        return _chunks(sum(len(e["MessageBody"].encode()) for e in params.get("Entries", [])), prices.SQS_CHUNK_BYTES)
    if operation == "ReceiveMessage":
        bodies = [len(m["Body"].encode()) for m in parsed.get("Messages", [])]
        return _chunks(sum(bodies), prices.SQS_CHUNK_BYTES) if bodies else 0
    return 1


def _entry_bytes(entry: dict[str, Any]) -> int:
    return sum(len(str(entry.get(name, "")).encode()) for name in ("Source", "DetailType", "Detail", "Resources"))


def _sns_chunks(params: dict[str, Any], operation: str) -> int:
    """A publish per 64 KB of message and attributes; ``PublishBatch`` bills each entry as one publish."""
    entries = params.get("PublishBatchRequestEntries", []) if operation == "PublishBatch" else [params]
    if operation not in ("Publish", "PublishBatch"):
        return 1
    return sum(_chunks(_message_bytes(e), prices.SNS_CHUNK_BYTES) for e in entries)


def _message_bytes(entry: dict[str, Any]) -> int:
    attributes = entry.get("MessageAttributes", {})
    size = len(str(entry.get("Message", "")).encode())
    for name, value in attributes.items():
        size += len(name.encode()) + len(str(value.get("DataType", "")).encode())
        size += len(str(value.get("StringValue", value.get("BinaryValue", ""))).encode())
    return size


def _kinesis_kilobytes(params: dict[str, Any], operation: str) -> int:
    """Data in, in KB: each record (its data and partition key) rounded up to the next KB."""
    records = params.get("Records", []) if operation == "PutRecords" else [params]
    if operation not in ("PutRecord", "PutRecords"):
        return 0
    return sum(
        _chunks(len(_bytes(r.get("Data", b""))) + len(r.get("PartitionKey", "").encode()), 1024) for r in records
    )


def _bytes(data: Any) -> bytes:
    return data if isinstance(data, bytes) else str(data).encode()
