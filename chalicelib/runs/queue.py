"""The runs queue: what the API enqueues and how the worker postpones a message."""

from __future__ import annotations

import json
import threading

from pydantic import ValidationError

from chalicelib.core import aws
from chalicelib.core.config import get_settings
from chalicelib.core.models import WireModel

MAX_VISIBILITY_SECONDS = 12 * 3600  # SQS's ceiling for ChangeMessageVisibility
MAX_DELAY_SECONDS = 900  # SQS's ceiling for DelaySeconds

_urls: dict[str, str] = {}
_lock = threading.Lock()


class RunMessage(WireModel):
    """Only ids: the run record is the truth, so a stale or duplicate message cannot carry stale data."""

    tenant_id: str
    run_id: str
    trace_id: str | None = None


def parse(body: str) -> RunMessage | None:
    try:
        return RunMessage.model_validate_json(body)
    except ValidationError:
        return None


def queue_url(name: str) -> str:
    url = _urls.get(name)
    if url is None:
        url = aws.sqs().get_queue_url(QueueName=name)["QueueUrl"]
        with _lock:
            _urls[name] = url
    return url


def runs_queue_url() -> str:
    return queue_url(get_settings().queue_name("runs"))


def enqueue(message: RunMessage, delay_seconds: int = 0) -> None:
    """``delay_seconds`` (at most SQS's 900) keeps the message hidden that long after it is sent."""
    aws.sqs().send_message(
        QueueUrl=runs_queue_url(),
        MessageBody=json.dumps(message.model_dump(by_alias=True, exclude_none=True)),
        DelaySeconds=max(0, min(delay_seconds, MAX_DELAY_SECONDS)),
    )


def postpone(receipt_handle: str, seconds: int) -> None:
    """Hide a received message for ``seconds``: SQS redelivers it then, which is the retry's backoff."""
    aws.sqs().change_message_visibility(
        QueueUrl=runs_queue_url(),
        ReceiptHandle=receipt_handle,
        VisibilityTimeout=max(0, min(seconds, MAX_VISIBILITY_SECONDS)),
    )
