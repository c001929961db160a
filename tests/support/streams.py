"""Lambda's stream event source for the in-process tests: the events table's stream into ``events_stream``.

moto's in-process mock answers no DynamoDB Streams API (the local runtime,
against moto's server, reads it through the API), so the records are read
from moto's table directly. They are already in Lambda's JSON shape (binary
attributes in base64). A pump starts at the stream's current end, so a test
fans out only what it records itself; a reported failure is retried, with
every record after it, on the next pump, as Lambda retries a shard.
"""

from __future__ import annotations

from typing import Any

from chalicelib.core.config import get_settings

ACCOUNT = "123456789012"


def _shard() -> Any:
    from moto.dynamodb.models import dynamodb_backends

    table = dynamodb_backends[ACCOUNT][get_settings().region].get_table(get_settings().table_name("events"))
    return table.stream_shard


def _arn() -> str:
    return f"arn:aws:dynamodb:{get_settings().region}:{ACCOUNT}:table/{get_settings().table_name('events')}/stream/test"


class StreamPump:
    def __init__(self, batch_size: int = 100) -> None:
        from app import events_stream

        self.handler = events_stream
        self.batch_size = batch_size
        self.position = len(_shard().items)
        self.invocations = 0

    def pending(self) -> list[dict[str, Any]]:
        records = [item.record for item in _shard().items[self.position :]]
        return [{**record, "eventSourceARN": _arn()} for record in records]

    def pump(self) -> int:
        """Hand every new record to the handler, a batch at a time; the number completed."""
        done = 0
        while batch := self.pending()[: self.batch_size]:
            result: dict[str, Any] = self.handler({"Records": batch}, None)
            self.invocations += 1
            failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
            completed = next((i for i, r in enumerate(batch) if r["dynamodb"]["SequenceNumber"] in failed), len(batch))
            self.position += completed
            done += completed
            if completed < len(batch):
                break
        return done
