"""Clients that behave as real callers do under failure, and a ledger of what the platform accepted.

A vendor retries a non-2xx delivery with a short backoff; an API client retries a
5xx with the same ``Idempotency-Key``. ``Ledger`` counts, per kind, what was tried
and what was answered 2xx, so the chaos test can hold the platform to every
request it accepted, and only to those.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3

from chalicelib.core import jsontext
from tests.e2e.conftest import LocalRuntime
from tests.support.api_client import Reply
from tests.support.receiver import Receiver

TRIES = 10
EVENTS_TABLE = "integration-platform-dev-events"


def backoff(attempt: int) -> float:
    """0.1 s, 0.2 s, 0.4 s ... capped at 2 s, as a vendor's redelivery or a client's retry would wait."""
    return float(min(2.0, 0.1 * 2**attempt))


@dataclass
class Ledger:
    """Per kind: requests tried, answered 2xx, and the non-2xx statuses seen on the way."""

    tried: Counter[str] = field(default_factory=Counter)
    accepted: Counter[str] = field(default_factory=Counter)
    retried_statuses: Counter[int] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, ok: bool, statuses: list[int]) -> None:
        with self._lock:
            self.tried[kind] += 1
            self.accepted[kind] += int(ok)
            self.retried_statuses.update(statuses)


def retrying(send: Callable[[], Reply], retry: Callable[[Reply], bool]) -> tuple[Reply, list[int]]:
    """The last reply of up to ``TRIES`` sends, retrying while ``retry(reply)``; and the statuses retried."""
    seen: list[int] = []
    reply = send()
    for attempt in range(TRIES - 1):
        if not retry(reply):
            break
        seen.append(reply.status)
        time.sleep(backoff(attempt))
        reply = send()
    return reply, seen


def server_error(reply: Reply) -> bool:
    return reply.status >= 500


def not_2xx(reply: Reply) -> bool:
    return not 200 <= reply.status < 300


def api_call(
    runtime: LocalRuntime,
    token: str,
    method: str,
    path: str,
    json_body: Any = None,
    idempotency_key: str | None = None,
) -> tuple[Reply, list[int]]:
    """A client's call: retried on a 5xx, with the same ``Idempotency-Key`` when it has one."""
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
    return retrying(
        lambda: runtime.request(method, path, json_body=json_body, token=token, headers=headers), server_error
    )


def must(reply: tuple[Reply, list[int]], status: int = 200) -> Any:
    """The JSON of a setup call that has to succeed (after its retries)."""
    answer = reply[0]
    assert answer.status == status, f"{answer.status} {answer.body!r}"
    return answer.json


def pages(runtime: LocalRuntime, token: str, path: str) -> Iterator[dict[str, Any]]:
    """Every item of a paged list route (``limit=100``, ``cursor``), each page retried on a 5xx."""
    cursor: str | None = None
    while True:
        query = f"{'&' if '?' in path else '?'}limit=100" + (f"&cursor={cursor}" if cursor else "")
        page = must(api_call(runtime, token, "GET", path + query))
        yield from page["items"]
        cursor = page.get("nextCursor")
        if not cursor:
            return


@dataclass(frozen=True)
class RecordedEvent:
    event_id: str
    type: str
    data: dict[str, Any]

    @property
    def kind(self) -> str:
        """``RunCompleted`` and ``run.completed`` alike become ``runcompleted``."""
        return self.type.replace(".", "").replace("_", "").lower()


def recorded_events(runtime: LocalRuntime, tenant: str) -> list[RecordedEvent]:
    """Every event item of the tenant, read from the runtime's moto (AWS's side, so no injected faults)."""
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=runtime.moto_url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    found: list[RecordedEvent] = []
    paginator = dynamodb.get_paginator("query")
    for page in paginator.paginate(
        TableName=EVENTS_TABLE,
        KeyConditionExpression="tenantId = :t",
        ExpressionAttributeValues={":t": {"S": tenant}},
    ):
        for item in page["Items"]:
            blob = item.get("dataZ", {}).get("B")
            data = jsontext.decompress(bytes(blob)) if blob is not None else {}
            found.append(RecordedEvent(item["eventId"]["S"], item["type"]["S"], data if isinstance(data, dict) else {}))
    return found


@dataclass(frozen=True)
class Copies:
    """What the receivers took: every POST, the 2xx ones, and the event ids a receiver answered 2xx more than once."""

    sends: int
    accepted: int
    duplicated: list[tuple[int, str, int]]  # (receiver, event id, copies answered 2xx)

    @property
    def duplicates(self) -> int:
        return sum(copies - 1 for _, _, copies in self.duplicated)

    @classmethod
    def of(cls, receivers: list[Receiver]) -> Copies:
        sends = accepted = 0
        duplicated: list[tuple[int, str, int]] = []
        for n, receiver in enumerate(receivers):
            taken = Counter(r.message_id for r in receiver.accepted())
            sends += len(receiver.received)
            accepted += sum(taken.values())
            duplicated += [(n, event_id, count) for event_id, count in taken.items() if count > 1]
        return cls(sends, accepted, duplicated)


@dataclass(frozen=True)
class Timing:
    driven: float
    settle: float  # from the faults stopping to everything final and delivered
    wall: float


def credentials_readable(runtime: LocalRuntime, token: str, connection_ids: list[str]) -> list[str]:
    """Connections whose credential cannot be read or used (a rotation must never leave one so)."""
    unreadable = []
    for connection_id in connection_ids:
        got = must(api_call(runtime, token, "GET", f"/integrations/connections/{connection_id}"))
        detail, _ = api_call(runtime, token, "GET", f"/integrations/credentials/{got['credentialId']}")
        tried, _ = api_call(runtime, token, "POST", f"/integrations/connections/{connection_id}/test")
        if detail.status != 200 or b"CREDENTIAL_UNAVAILABLE" in tried.body:
            unreadable.append(f"{connection_id}: credential {detail.status}, test {tried.status} {tried.body[:200]!r}")
    return unreadable
