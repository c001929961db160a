"""The outbound-dispatch queue and its dead-letter queue.

A delivery retry is a new message with ``DelaySeconds`` (SQS caps it at 900 s);
a longer wait is chained by carrying ``dueAt`` and re-delaying on receipt.
Messages that exhausted their attempts are sent to the DLQ explicitly, so they
land there on the first final failure rather than after ``maxReceiveCount``
more receives; a handler crash still reaches the DLQ through the redrive policy.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from chalicelib.core import aws
from chalicelib.core.config import get_settings
from chalicelib.outbound.models import DispatchMessage

MAX_DELAY_SECONDS = 900
MAX_INLINE_PAYLOAD = 200_000
QUEUE = "outbound-dispatch"

_urls: dict[str, str] = {}
_lock = threading.Lock()


def dispatch_queue_name() -> str:
    return get_settings().queue_name(QUEUE)


def dead_letter_queue_name() -> str:
    return get_settings().dead_letter_queue_name(QUEUE)


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
    """Enqueue messages ten per call; raise if any entry was refused."""
    entries = [{"Id": str(i), "MessageBody": encode(m)} for i, m in enumerate(messages)]
    client = aws.sqs()
    url = queue_url(dispatch_queue_name())
    for start in range(0, len(entries), 10):
        chunk: Any = entries[start : start + 10]
        response = client.send_message_batch(QueueUrl=url, Entries=chunk)
        failed = response.get("Failed", [])
        if failed:
            raise RuntimeError(f"SQS refused {len(failed)} dispatch messages: {failed[0].get('Code')}")
    return len(entries)


def send_delayed(message: DispatchMessage, delay_seconds: float) -> None:
    delay = max(0, min(MAX_DELAY_SECONDS, round(delay_seconds)))
    aws.sqs().send_message(QueueUrl=queue_url(dispatch_queue_name()), MessageBody=encode(message), DelaySeconds=delay)


def send_dead_letter(message: DispatchMessage, reason: str) -> None:
    """Park a finally failed delivery; a redrive to the main queue starts a fresh schedule."""
    parked = message.model_copy(update={"attempt": 1, "due_at": None})
    aws.sqs().send_message(
        QueueUrl=queue_url(dead_letter_queue_name()),
        MessageBody=encode(parked),
        MessageAttributes={"failureReason": {"DataType": "String", "StringValue": reason[:256]}},
    )
