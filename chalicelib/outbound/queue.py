"""The outbound-dispatch queue and its dead-letter queue.

A delivery retry is a new message with ``DelaySeconds`` (SQS caps it at 900 s);
a longer wait is chained by carrying ``dueAt`` and re-delaying on receipt.
Messages that exhausted their attempts are sent to the DLQ explicitly, so they
land there on the first final failure rather than after ``maxReceiveCount``
more receives; a handler crash still reaches the DLQ through the redrive policy.
An ordered subscription's messages go to the FIFO queue and its FIFO DLQ
instead, with their group and deduplication id (``chalicelib.outbound.ordered``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.core import aws
from chalicelib.core.config import get_settings
from chalicelib.outbound import deliveries
from chalicelib.outbound.models import DispatchMessage

MAX_DELAY_SECONDS = 900
MAX_INLINE_PAYLOAD = 200_000
MAX_BATCH_BYTES = 256 * 1024  # SendMessageBatch's limit on the sum of its messages
QUEUE = "outbound-dispatch"
ORDERED_QUEUE = "outbound-ordered.fifo"

_urls: dict[str, str] = {}
_lock = threading.Lock()


def dispatch_queue_name() -> str:
    return get_settings().queue_name(QUEUE)


def dead_letter_queue_name() -> str:
    return get_settings().dead_letter_queue_name(QUEUE)


def ordered_queue_name() -> str:
    return get_settings().queue_name(ORDERED_QUEUE)


def ordered_dead_letter_queue_name() -> str:
    return get_settings().dead_letter_queue_name(ORDERED_QUEUE)


def _fifo(message: DispatchMessage) -> dict[str, str]:
    if message.message_group is None or message.delivery_id is None:
        return {}
    return {"MessageGroupId": message.message_group, "MessageDeduplicationId": message.delivery_id}


def queue_url(name: str) -> str:
    url = _urls.get(name)
    if url is None:
        url = aws.sqs().get_queue_url(QueueName=name)["QueueUrl"]
        with _lock:
            _urls[name] = url
    return url


def encode(message: DispatchMessage) -> str:
    body = message.model_dump_json(by_alias=True, exclude_none=True)
    if len(body) > MAX_INLINE_PAYLOAD and message.body is not None:
        body = message.model_copy(update={"body": None}).model_dump_json(by_alias=True, exclude_none=True)
    return body


class NotEnqueued(RuntimeError):
    """SQS did not take every message: ``first`` is the index of the first one not enqueued (later ones may
    or may not have been)."""

    def __init__(self, first: int, reason: str) -> None:
        super().__init__(f"SQS did not take dispatch message {first} (or some after it): {reason}")
        self.first = first


Chunk = tuple[str, list[tuple[int, dict[str, Any]]]]


def _chunks(messages: list[DispatchMessage]) -> list[Chunk]:
    """SendMessageBatch requests, in the messages' order: per queue, ten entries and 256 KiB at most each, and on
    the FIFO queue no group twice in one, so an entry SQS refuses never lets a later message of its group in."""
    chunks: list[Chunk] = []
    current: dict[str, tuple[list[tuple[int, dict[str, Any]]], set[str], int]] = {}
    for i, m in enumerate(messages):
        name = ordered_queue_name() if m.message_group else dispatch_queue_name()
        entry = {"Id": str(i), "MessageBody": encode(m), **_fifo(m)}
        size = len(entry["MessageBody"].encode())
        entries, groups, used = current.get(name, ([], set(), 0))
        if not entries or len(entries) == 10 or used + size > MAX_BATCH_BYTES or m.message_group in groups:
            entries, groups, used = [], set(), 0
            chunks.append((name, entries))
        entries.append((i, entry))
        if m.message_group:
            groups.add(m.message_group)
        current[name] = (entries, groups, used + size)
    return chunks


def send_batch(messages: Iterable[DispatchMessage]) -> int:
    """Enqueue messages, ordered ones (in the given order) on the FIFO queue, ten to a request across events;
    ``NotEnqueued`` names the first message not enqueued, and no request is made after the one that failed."""
    chunks = _chunks(list(messages))
    client = aws.sqs()
    for n, (name, entries) in enumerate(chunks):
        later = {i for _, rest in chunks[n + 1 :] for i, _ in rest}
        try:
            batch: Any = [e for _, e in entries]
            response = client.send_message_batch(QueueUrl=queue_url(name), Entries=batch)
        except (BotoCoreError, ClientError) as exc:
            raise NotEnqueued(min(later | {i for i, _ in entries}), str(exc)) from exc
        failed = response.get("Failed", [])
        if failed:
            raise NotEnqueued(min(later | {int(f["Id"]) for f in failed}), str(failed[0].get("Code")))
    return sum(len(entries) for _, entries in chunks)


def send_delayed(message: DispatchMessage, delay_seconds: float) -> None:
    delay = max(0, min(MAX_DELAY_SECONDS, round(delay_seconds)))
    aws.sqs().send_message(QueueUrl=queue_url(dispatch_queue_name()), MessageBody=encode(message), DelaySeconds=delay)


def send_dead_letter(message: DispatchMessage, reason: str) -> None:
    """Park a finally failed delivery; a redrive to the main queue starts a fresh schedule, under a fresh delivery id.

    The FIFO dead-letter queue deduplicates on the failed delivery's id, so parking it twice leaves one.
    """
    fresh = deliveries.delivery_id(message.event_id, message.subscription_id, fresh=True)
    parked = message.model_copy(update={"attempt": 1, "due_at": None, "delivery_id": fresh})
    name = ordered_dead_letter_queue_name() if message.message_group else dead_letter_queue_name()
    params: Any = {
        "QueueUrl": queue_url(name),
        "MessageBody": encode(parked),
        "MessageAttributes": {"failureReason": {"DataType": "String", "StringValue": reason[:256]}},
        **_fifo(message),
    }
    aws.sqs().send_message(**params)
