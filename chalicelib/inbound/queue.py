"""The hand-off to the inbound-events queue. The queue URL is looked up once per process."""

from __future__ import annotations

import json
import threading
from typing import Any

from chalicelib.core import aws
from chalicelib.core.config import get_settings

QUEUE = "inbound-events"
_urls: dict[str, str] = {}
_lock = threading.Lock()


def _url() -> str:
    name = get_settings().queue_name(QUEUE)
    with _lock:
        url = _urls.get(name)
        if url is None:
            url = aws.sqs().get_queue_url(QueueName=name)["QueueUrl"]
            _urls[name] = url
    return url


def send(message: dict[str, Any]) -> None:
    aws.sqs().send_message(QueueUrl=_url(), MessageBody=json.dumps(message, separators=(",", ":")))
