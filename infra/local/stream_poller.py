"""Lambda's DynamoDB Streams event source mapping, run locally against moto.

Each poller reads one table's stream (every shard, from the trim horizon, as
the packaged mapping's ``TRIM_HORIZON`` does) and hands the handler batches
shaped as Lambda delivers them: binary attributes in base64 and the stream's
ARN on every record. With ``ReportBatchItemFailures`` a reported record and
every record after it are retried, in order, until they succeed, as Lambda
retries a shard from the failed sequence number; a batch that keeps failing is
retried after a pause that doubles from half a second up to 8 s, with jitter,
so a sick dependency is not hammered.
"""

from __future__ import annotations

import base64
import logging
import random
import threading
from datetime import datetime
from typing import Any

from chalice.app import Chalice, DynamoDBEventConfig

from infra.local.invoke import LocalFunction

log = logging.getLogger(__name__)
RETRY_PAUSE_SECONDS = 0.5
MAX_RETRY_PAUSE_SECONDS = 8.0


def retry_pause(failures: int) -> float:
    """Equal jitter over a ceiling that doubles with each failure in a row: never zero, never in step."""
    ceiling: float = min(MAX_RETRY_PAUSE_SECONDS, RETRY_PAUSE_SECONDS * 2.0 ** max(0, failures - 1))
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def _lambda_value(value: Any) -> Any:
    """One attribute value as Lambda's JSON carries it (boto3 decoded binaries to bytes)."""
    if not isinstance(value, dict):
        return value
    shaped: dict[str, Any] = {}
    for kind, inner in value.items():
        if kind == "B":
            shaped[kind] = base64.b64encode(bytes(inner)).decode()
        elif kind == "BS":
            shaped[kind] = [base64.b64encode(bytes(b)).decode() for b in inner]
        elif kind == "M":
            shaped[kind] = {k: _lambda_value(v) for k, v in inner.items()}
        elif kind == "L":
            shaped[kind] = [_lambda_value(v) for v in inner]
        else:
            shaped[kind] = inner
    return shaped


def lambda_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """One GetRecords record as it appears in a Lambda event's ``Records``."""
    body = dict(record.get("dynamodb", {}))
    for image in ("Keys", "NewImage", "OldImage"):
        if image in body:
            body[image] = {name: _lambda_value(v) for name, v in body[image].items()}
    created = body.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        body["ApproximateCreationDateTime"] = created.timestamp()
    return {**{k: v for k, v in record.items() if k != "dynamodb"}, "dynamodb": body, "eventSourceARN": stream_arn}


class StreamPoller:
    def __init__(self, function: LocalFunction, streams: Any, stream_arn: str, batch_size: int) -> None:
        self.function = function
        self.stream_arn = stream_arn
        self.table_name = stream_arn.split("/")[1]
        self.batch_size = batch_size
        self._streams = streams
        self._iterators: dict[str, str | None] = {}
        self._pending: list[dict[str, Any]] = []

    def _shards(self) -> list[str]:
        described = self._streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        return [shard["ShardId"] for shard in described.get("Shards", [])]

    def _fetch(self) -> list[dict[str, Any]]:
        for shard in self._shards():
            if shard not in self._iterators:
                self._iterators[shard] = self._streams.get_shard_iterator(
                    StreamArn=self.stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
        records: list[dict[str, Any]] = []
        for shard, iterator in self._iterators.items():
            if iterator is None:
                continue
            page = self._streams.get_records(ShardIterator=iterator, Limit=self.batch_size)
            self._iterators[shard] = page.get("NextShardIterator")
            records += [lambda_record(r, self.stream_arn) for r in page.get("Records", [])]
        return records

    def poll_once(self) -> int:
        """Hand the handler the records waiting (retries first); the number it completed."""
        batch = self._pending or self._fetch()
        if not batch:
            return 0
        batch, rest = batch[: self.batch_size], batch[self.batch_size :]
        try:
            result = self.function.invoke({"Records": batch})
            failures = result.get("batchItemFailures", []) if isinstance(result, dict) else []
            failed = {f.get("itemIdentifier") for f in failures}
        except Exception:
            log.exception("%s raised: the batch is retried", self.function.name)
            failed = {batch[0]["dynamodb"]["SequenceNumber"]}
        position = next((i for i, r in enumerate(batch) if r["dynamodb"]["SequenceNumber"] in failed), len(batch))
        self._pending = batch[position:] + rest
        return position

    def run(self, stop: threading.Event) -> None:
        failures = 0
        while not stop.is_set():
            try:
                done = self.poll_once()
                stuck = bool(self._pending) and not done
            except Exception:
                log.exception("reading the %s stream failed; retrying", self.table_name)
                done, stuck = 0, True
            failures = failures + 1 if stuck else 0
            if failures:
                stop.wait(retry_pause(failures))
            elif not done:
                stop.wait(0.1)


def discover_stream_pollers(app: Chalice, dynamodb: Any, streams: Any, stage: str, region: str) -> list[StreamPoller]:
    """A poller for every ``@app.on_dynamodb_record`` handler, on its table's live stream.

    The handler's configured ARN is the packaging stand-in (its table is what counts); the merge
    template wires the real one on AWS, and here it is read from the table.
    """
    pollers = []
    for source in app.event_sources:
        if not isinstance(source, DynamoDBEventConfig):
            continue
        table = source.stream_arn.split(":table/", 1)[-1].split("/", 1)[0]
        arn = dynamodb.describe_table(TableName=table)["Table"].get("LatestStreamArn")
        if not arn:
            raise LookupError(f"{source.name} reads the stream of {table!r}, which has no stream")
        pollers.append(StreamPoller(LocalFunction(app, source, stage, region), streams, arn, source.batch_size))
    return pollers
