"""``python -m infra.ops.redrive <queue>``: move every message of a queue's DLQ back to the queue.

For messages a dead-letter consumer did not take (``outbound-dispatch`` has
none; a consumer that itself fails leaves them) once their cause is fixed. It
receives, sends to the main queue, and deletes from the DLQ only what was sent,
so an interrupted run loses nothing (a message may at worst be sent twice, and
every consumer is idempotent). Queue names come from the stage settings
(``STAGE`` / ``RESOURCE_PREFIX``); clients from ``chalicelib.core.aws``, so
``AWS_ENDPOINT_URL`` points it at ``make run``'s moto.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chalicelib.core import aws
from chalicelib.core.config import ALL_QUEUES, get_settings

if TYPE_CHECKING:
    from mypy_boto3_sqs.type_defs import MessageTypeDef

BATCH = 10  # SQS's ceiling for ReceiveMessage and the batch calls
# Long enough to send and delete a batch; a message left behind reappears in the DLQ after it.
IN_FLIGHT_SECONDS = 60


@dataclass(frozen=True)
class Moved:
    source: str
    target: str
    moved: int
    failed: int


def _url(name: str) -> str:
    return aws.sqs().get_queue_url(QueueName=name)["QueueUrl"]


def _entry(index: int, message: MessageTypeDef) -> dict[str, Any]:
    entry: dict[str, Any] = {"Id": str(index), "MessageBody": message["Body"]}
    attributes = message.get("MessageAttributes")
    if attributes:
        entry["MessageAttributes"] = attributes
    return entry


def redrive(queue: str) -> Moved:
    """Move what is visible in ``queue``'s DLQ now; a message that fails to send stays in the DLQ."""
    settings = get_settings()
    source, target = settings.dead_letter_queue_name(queue), settings.queue_name(queue)
    sqs = aws.sqs()
    source_url, target_url = _url(source), _url(target)
    moved = failed = 0
    while True:
        messages = sqs.receive_message(
            QueueUrl=source_url,
            MaxNumberOfMessages=BATCH,
            VisibilityTimeout=IN_FLIGHT_SECONDS,
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return Moved(source, target, moved, failed)
        sent = sqs.send_message_batch(
            QueueUrl=target_url,
            Entries=[_entry(i, m) for i, m in enumerate(messages)],  # type: ignore[misc]
        )
        done = [messages[int(entry["Id"])] for entry in sent.get("Successful", [])]
        failed += len(messages) - len(done)
        if done:
            sqs.delete_message_batch(
                QueueUrl=source_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        moved += len(done)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.ops.redrive", description=__doc__.split("\n\n")[0])
    parser.add_argument("queue", choices=ALL_QUEUES, help="the main queue; its -dlq is emptied into it")
    args = parser.parse_args(argv)
    result = redrive(args.queue)
    print(f"moved {result.moved} message(s) from {result.source} to {result.target}; {result.failed} failed")
    return 1 if result.failed else 0


if __name__ == "__main__":
    sys.exit(main())
