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

from chalicelib.core import aws
from chalicelib.core.config import get_settings
from chalicelib.outbound import deliveries
from chalicelib.outbound.models import DispatchMessage

MAX_DELAY_SECONDS = 900
MAX_INLINE_PAYLOAD = 200_000
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


def send_batch(messages: Iterable[DispatchMessage]) -> int:
    """Enqueue messages ten per call, ordered ones (in the given order) on the FIFO queue; raise if any was refused."""
    entries: dict[str, list[dict[str, Any]]] = {}
    for i, m in enumerate(messages):
        name = ordered_queue_name() if m.message_group else dispatch_queue_name()
        entries.setdefault(name, []).append({"Id": str(i), "MessageBody": encode(m), **_fifo(m)})
    client = aws.sqs()
    for name, listed in entries.items():
        url = queue_url(name)
        for start in range(0, len(listed), 10):
            chunk: Any = listed[start : start + 10]
            response = client.send_message_batch(QueueUrl=url, Entries=chunk)
            failed = response.get("Failed", [])
            if failed:
                raise RuntimeError(f"SQS refused {len(failed)} dispatch messages: {failed[0].get('Code')}")
    return sum(len(listed) for listed in entries.values())


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
