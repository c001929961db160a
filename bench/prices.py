"""The one price table the cost bench reads: us-east-1 list prices, on-demand, first tier.

Every figure is dollars per unit named beside it, as AWS's pricing pages give them (each block names its
page; read 2026-12-07). Change a price here and ``python -m bench.cost`` and ``make bench`` follow.
"""

from __future__ import annotations

MILLION = 1_000_000

# API Gateway (aws.amazon.com/api-gateway/pricing): a REST API request; an HTTP API request, per 512 KB chunk.
# Which front serves the ingest route is read from infra/template.json (bench.stack); the rest is REST.
API_GATEWAY_REST_PER_REQUEST = 3.50 / MILLION
API_GATEWAY_HTTP_PER_REQUEST = 1.00 / MILLION
API_GATEWAY_HTTP_CHUNK_BYTES = 512 * 1024

# Lambda (aws.amazon.com/lambda/pricing, x86): per invocation and per GB-second, billed per millisecond of
# duration; each function's memory is read from the config and template (bench.stack).
LAMBDA_PER_REQUEST = 0.20 / MILLION
LAMBDA_PER_GB_SECOND = 0.0000166667

# DynamoDB on demand: a write request unit is 1 KB written (2 in a transaction), a read request unit is
# 4 KB read strongly consistently (half for an eventually consistent read, 2 in a transaction).
DYNAMODB_PER_WRU = 1.25 / MILLION
DYNAMODB_PER_RRU = 0.25 / MILLION
# Lambda's reads of a DynamoDB stream (GetRecords by the event source mapping) are free: no line.

# SQS standard queue (aws.amazon.com/sqs/pricing): every API action, per 64 KB chunk of its payload (a batch of
# ten counts as one request while it stays within 64 KB).
SQS_PER_REQUEST = 0.40 / MILLION
SQS_CHUNK_BYTES = 64 * 1024

# EventBridge (aws.amazon.com/eventbridge/pricing): PutEvents to a custom bus, per entry per 64 KB chunk.
EVENTBRIDGE_PER_ENTRY = 1.00 / MILLION
EVENTBRIDGE_CHUNK_BYTES = 64 * 1024

# SNS (aws.amazon.com/sns/pricing): a standard topic's Publish, per 64 KB chunk of its payload (its deliveries
# to the topic's own subscribers are the topic owner's, priced by protocol: not the platform's write).
SNS_PER_PUBLISH = 0.50 / MILLION
SNS_CHUNK_BYTES = 64 * 1024

# Kinesis Data Streams on-demand (aws.amazon.com/kinesis/data-streams/pricing): data in at $0.08 per GB, each
# record rounded up to the next 1 KB. The stream's hourly charge ($0.04 per stream hour) is paid per stream,
# not per event, so it is not on a per-event bill.
KINESIS_PER_GB_IN = 0.08
KINESIS_RECORD_ROUNDING_BYTES = 1024
KINESIS_PER_RECORD_KB = KINESIS_PER_GB_IN / (1024 * 1024)

# Secrets Manager (aws.amazon.com/secrets-manager/pricing): $0.05 per 10,000 API calls.
SECRETS_MANAGER_PER_CALL = 0.05 / 10_000

# CloudWatch Logs (aws.amazon.com/cloudwatch/pricing): standard log data ingested, per GB; what the functions
# print (their logs and EMF metrics) is ingested.
CLOUDWATCH_LOGS_PER_GB = 0.50

# What the platform is compared with, per million events (their published list prices).
HOOKDECK_PER_MILLION = 10.0
SVIX_PER_MILLION = 100.0

# API Gateway WebSocket API: messages (either way, per 32 KB chunk) and connection minutes.
WEBSOCKET_PER_MESSAGE = 1.00 / MILLION
WEBSOCKET_MESSAGE_CHUNK_BYTES = 32 * 1024
WEBSOCKET_PER_CONNECTION_MINUTE = 0.25 / MILLION
