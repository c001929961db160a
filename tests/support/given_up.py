"""Lambda giving an events stream batch up: the failure record its mapping sends to ``events-stream-failures``.

The record names the batch's place in the stream (shard, first and last sequence
numbers), not its records; the consumer reads them back. Used over the local
runtime, whose moto answers the DynamoDB Streams API.
"""

from __future__ import annotations

import json
from typing import Any


def stream_position(dynamodb: Any, streams: Any, table: str, tenant: str, event_id: str) -> tuple[str, str, str]:
    """The table's stream ARN, its shard and the sequence number of the record that inserted ``event_id``."""
    stream_arn = str(dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"])
    [shard] = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
    iterator = streams.get_shard_iterator(
        StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    while iterator:
        page = streams.get_records(ShardIterator=iterator)
        for record in page["Records"]:
            keys = record["dynamodb"]["Keys"]
            if (keys["tenantId"]["S"], keys["eventId"]["S"]) == (tenant, event_id):
                return stream_arn, str(shard["ShardId"]), str(record["dynamodb"]["SequenceNumber"])
        iterator = page.get("NextShardIterator") if page["Records"] else None
    raise AssertionError(f"no stream record inserted {event_id}")


def give_up(clients: Any, prefix: str, tenant: str, event_id: str) -> None:
    """Send the failure record of a one-record batch holding ``event_id``'s insert; ``clients(service)`` makes one."""
    stream_arn, shard_id, sequence = stream_position(
        clients("dynamodb"), clients("dynamodbstreams"), f"{prefix}-events", tenant, event_id
    )
    info = {"shardId": shard_id, "startSequenceNumber": sequence, "endSequenceNumber": sequence}
    failure = {
        "requestContext": {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": 11},
        "version": "1.0",
        "DDBStreamBatchInfo": {**info, "batchSize": 1, "streamArn": stream_arn},
    }
    sqs = clients("sqs")
    url = sqs.get_queue_url(QueueName=f"{prefix}-events-stream-failures")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(failure))
