"""Lambda's SQS event source mapping, run locally against moto.

Each poller long-polls one queue, hands the handler a Lambda-shaped batch (the
real message ids, receipt handles and attributes), and deletes only what
succeeded, following the ``ReportBatchItemFailures`` rules the deployed mapping
is configured with. Failed messages are left alone: SQS makes them visible
again after the queue's visibility timeout and moves them to the DLQ after the
RedrivePolicy's ``maxReceiveCount`` (moto implements both on ReceiveMessage).
"""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chalice.app import Chalice, SQSEventConfig

from infra.local.invoke import LocalFunction

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageAttributeValueOutputTypeDef, MessageTypeDef

log = logging.getLogger(__name__)
SQS_MAX_RECEIVE = 10


@dataclass(frozen=True)
class BatchOutcome:
    received: list[str]
    failed: list[str]


def lambda_record(message: MessageTypeDef, queue_arn: str, region: str) -> dict[str, Any]:
    """One SQS message as it appears in a Lambda event's ``Records``."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {name: _attribute(value) for name, value in message.get("MessageAttributes", {}).items()},
        "md5OfBody": message.get("MD5OfBody"),
        "md5OfMessageAttributes": message.get("MD5OfMessageAttributes"),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def _attribute(value: MessageAttributeValueOutputTypeDef) -> dict[str, Any]:
    shaped: dict[str, Any] = {"stringListValues": [], "binaryListValues": [], "dataType": value["DataType"]}
    if "StringValue" in value:
        shaped["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        shaped["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
    return shaped


def failed_ids(result: Any, batch_ids: Iterable[str]) -> set[str]:
    """The ids Lambda treats as failed for a handler's return value.

    No ``batchItemFailures`` (or an empty list) is full success; an entry whose
    ``itemIdentifier`` is missing or not in the batch fails the whole batch.
    """
    ids = set(batch_ids)
    if not isinstance(result, dict) or not result.get("batchItemFailures"):
        return set()
    failures = result["batchItemFailures"]
    failed: set[str] = set()
    for item in failures if isinstance(failures, list) else [None]:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(identifier, str) or identifier not in ids:
            log.error("invalid batchItemFailures entry %r: the whole batch is treated as failed", item)
            return ids
        failed.add(identifier)
    return failed


class SqsPoller:
    def __init__(
        self,
        function: LocalFunction,
        sqs: SQSClient,
        queue_url: str,
        queue_arn: str,
        batch_size: int,
        region: str,
        wait_seconds: int = 1,
    ) -> None:
        self.function = function
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self.queue_name = queue_arn.rsplit(":", 1)[-1]
        self.batch_size = batch_size
        self._sqs = sqs
        self._region = region
        self._wait_seconds = wait_seconds

    def poll_once(self, wait_seconds: int | None = None) -> BatchOutcome | None:
        """Receive one batch, invoke the handler, delete what succeeded; None if the queue was empty."""
        messages = self._receive(self._wait_seconds if wait_seconds is None else wait_seconds)
        if not messages:
            return None
        ids = [m["MessageId"] for m in messages]
        event = {"Records": [lambda_record(m, self.queue_arn, self._region) for m in messages]}
        try:
            failed = failed_ids(self.function.invoke(event), ids)
        except Exception:
            log.exception("%s raised: all %d messages return to %s", self.function.name, len(ids), self.queue_name)
            failed = set(ids)
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), SQS_MAX_RECEIVE):
            chunk = done[start : start + SQS_MAX_RECEIVE]
            self._sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )
        return BatchOutcome(received=ids, failed=sorted(failed))

    def _receive(self, wait_seconds: int) -> list[MessageTypeDef]:
        """Up to ``batch_size`` messages; like Lambda, keeps receiving while full pages come back."""
        messages: list[MessageTypeDef] = []
        while len(messages) < self.batch_size:
            want = min(SQS_MAX_RECEIVE, self.batch_size - len(messages))
            page = self._sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=want,
                WaitTimeSeconds=0 if messages else wait_seconds,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            messages.extend(page)
            if len(page) < want:
                break
        return messages

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.poll_once()
            except Exception:
                log.exception("polling %s failed; retrying", self.queue_name)
                stop.wait(1)


def discover_pollers(app: Chalice, sqs: SQSClient, stage: str, region: str) -> list[SqsPoller]:
    """A poller for every ``@app.on_sqs_message`` handler, as ``chalice deploy`` creates event source mappings."""
    pollers = []
    for source in app.event_sources:
        if not isinstance(source, SQSEventConfig):
            continue
        queue = source.queue or (source.queue_arn or "").rsplit(":", 1)[-1]
        try:
            url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
        except sqs.exceptions.QueueDoesNotExist as exc:
            raise LookupError(f"{source.name} listens on queue {queue!r}, which infra/template.json lacks") from exc
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        function = LocalFunction(app, source, stage, region)
        pollers.append(SqsPoller(function, sqs, url, arn, source.batch_size, region))
    return pollers
