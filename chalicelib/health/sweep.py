"""The health sweep: schedule -> page jobs -> check jobs, all on the ``health-checks`` queue.

The schedule handler only enqueues one page job per ``activeSweep`` shard, so
it costs one SQS call however many connections exist. A page job Queries one
page of its shard (keys only: the index holds active connections alone, so
nothing is scanned or filtered), enqueues one check job per connection in
batches of ten, and a continuation job for the next page. A check job runs the
adapter's health check and records it. Every step is safe to repeat: a
redelivered page job re-enqueues checks that the check skips because this
sweep already recorded the connection (``lastSweepId``). A vendor that is down
is a recorded ``Unhealthy`` result, not a failed job; only AWS errors fail a
record, and only that record is retried (partial batch response). A batch's
vendor-call counts are summed (``stats.collecting``) and written when it ends. A check the
vendor's rate limit or open circuit breaker holds back (``chalicelib.protection``)
is sent again, delayed until the guard expects to admit it, at most
``MAX_DEFERRALS`` times; after that the next sweep checks the connection.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import ValidationError

from chalicelib.connections import store as connections
from chalicelib.core import aws, jsontext
from chalicelib.core.batch import SqsRecord, handle_in_turn
from chalicelib.core.config import get_settings
from chalicelib.core.context import set_trace_id
from chalicelib.core.dynamo import serialize
from chalicelib.core.ids import new_id
from chalicelib.core.logging import logger
from chalicelib.core.models import WireModel
from chalicelib.protection import guard
from chalicelib.runs.queue import queue_url
from chalicelib.stats import record as stats

PAGE_SIZE = 100
SQS_BATCH = 10
MAX_DEFERRALS = 5
MAX_DELAY_SECONDS = 900  # SQS's longest DelaySeconds


class SweepJob(WireModel):
    kind: Literal["page", "check"]
    sweep_id: str
    shard: str | None = None
    cursor: dict[str, Any] | None = None
    page_size: int = PAGE_SIZE
    tenant_id: str | None = None
    connection_id: str | None = None
    deferrals: int = 0


def _url() -> str:
    return queue_url(get_settings().queue_name("health-checks"))


def _send(jobs: list[SweepJob]) -> None:
    """SendMessageBatch in tens; any entry SQS refused fails the caller so its own message is retried."""
    client = aws.sqs()
    for start in range(0, len(jobs), SQS_BATCH):
        entries = [
            {"Id": str(i), "MessageBody": job.model_dump_json(by_alias=True, exclude_none=True)}
            for i, job in enumerate(jobs[start : start + SQS_BATCH])
        ]
        response = client.send_message_batch(QueueUrl=_url(), Entries=entries)  # type: ignore[arg-type]
        if response.get("Failed"):
            raise RuntimeError(f"SQS refused {len(response['Failed'])} health-check jobs")


def start(page_size: int = PAGE_SIZE) -> str:
    """What the schedule does: one page job per shard; returns the sweep id."""
    sweep_id = new_id("sweep")
    shards = [f"sweep-{n}" for n in range(connections.SWEEP_SHARDS)]
    _send([SweepJob(kind="page", sweep_id=sweep_id, shard=shard, page_size=page_size) for shard in shards])
    logger.info("health sweep started", extra={"sweepId": sweep_id, "shards": len(shards)})
    return sweep_id


def page(job: SweepJob) -> int:
    """One page of a shard: its check jobs, then the job for the next page. Returns the checks enqueued."""
    params: dict[str, Any] = {
        "TableName": connections.TABLE.name,
        "IndexName": connections.SWEEP_INDEX,
        "KeyConditionExpression": "sweepPartition = :shard",
        "ExpressionAttributeValues": serialize({":shard": job.shard}),
        "Limit": job.page_size,
    }
    if job.cursor:
        params["ExclusiveStartKey"] = job.cursor
    response = aws.dynamodb().query(**params)
    checks = [
        SweepJob(
            kind="check",
            sweep_id=job.sweep_id,
            tenant_id=item["tenantId"]["S"],
            connection_id=item["connectionId"]["S"],
        )
        for item in response.get("Items", [])
    ]
    following = response.get("LastEvaluatedKey")
    if following:
        checks.append(job.model_copy(update={"cursor": following}))
    _send(checks)
    return len(checks) - (1 if following else 0)


def defer(job: SweepJob, held: guard.Held) -> None:
    """The check again once the guard expects to admit it; a job deferred too often waits for the next sweep."""
    extra = {"connectionId": job.connection_id, "reason": held.reason, "deferrals": job.deferrals}
    if job.deferrals >= MAX_DEFERRALS:
        logger.warning("health check held back too often; the next sweep checks the connection", extra=extra)
        return
    again = job.model_copy(update={"deferrals": job.deferrals + 1})
    aws.sqs().send_message(
        QueueUrl=_url(),
        MessageBody=again.model_dump_json(by_alias=True, exclude_none=True),
        DelaySeconds=min(MAX_DELAY_SECONDS, max(1, math.ceil(held.retry_in))),
    )
    logger.info("health check held back by vendor protection; deferred", extra=extra)


def _record(record: SqsRecord) -> None:
    try:
        job = SweepJob.model_validate(jsontext.read(record.body))
    except (ValueError, ValidationError):
        logger.error("discarding a health-checks message that is not a job", extra={"messageId": record.message_id})
        return
    set_trace_id(job.sweep_id)  # the sweep's trace id: its dead letters point at it (chalicelib.health.dead_letters)
    try:
        if job.kind == "page":
            page(job)
        elif job.tenant_id and job.connection_id:
            from chalicelib.connections import health  # the sweep's start never checks a connection

            health.check_for_sweep(job.tenant_id, job.connection_id, job.sweep_id)
    except guard.Held as held:
        defer(job, held)
    except Exception:
        logger.exception(
            "health-checks job failed; SQS retries it",
            extra={"trace_id": job.sweep_id, "kind": job.kind, "connectionId": job.connection_id},
        )
        raise


def handle(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    # The batch's vendor-call counts, summed per connection and hour: no answer reads them before the batch ends.
    with stats.collecting():
        return handle_in_turn(event, _record, raise_on_entire_batch_failure=False)
