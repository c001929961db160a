"""The one price table the cost bench reads: us-east-1 list prices, on-demand, first tier.

Every figure is dollars per unit named beside it, as AWS's pricing pages give them.
Change a price here and ``python -m bench.cost`` and ``make bench`` follow.
"""

from __future__ import annotations

MILLION = 1_000_000

# API Gateway: a REST API request; an HTTP API request (per 512 KB chunk); a Lambda Function URL costs nothing
# beyond the function itself.
API_GATEWAY_REST_PER_REQUEST = 3.50 / MILLION
API_GATEWAY_HTTP_PER_REQUEST = 1.00 / MILLION
FUNCTION_URL_PER_REQUEST = 0.0

# Lambda (x86): per invocation and per GB-second, billed per millisecond; every function has 512 MB.
LAMBDA_PER_REQUEST = 0.20 / MILLION
LAMBDA_PER_GB_SECOND = 0.0000166667
LAMBDA_MEMORY_GB = 0.5

# DynamoDB on demand: a write request unit is 1 KB written (2 in a transaction), a read request unit is
# 4 KB read strongly consistently (half for an eventually consistent read, 2 in a transaction).
DYNAMODB_PER_WRU = 1.25 / MILLION
DYNAMODB_PER_RRU = 0.25 / MILLION
# Lambda's reads of a DynamoDB stream (GetRecords by the event source mapping) are free: no line.

# SQS standard queue: every API action, per 64 KB chunk of its payload (a batch of ten counts as one
# request while it stays within 64 KB).
SQS_PER_REQUEST = 0.40 / MILLION
SQS_CHUNK_BYTES = 64 * 1024

# EventBridge: PutEvents, per entry per 64 KB chunk.
EVENTBRIDGE_PER_ENTRY = 1.00 / MILLION
EVENTBRIDGE_CHUNK_BYTES = 64 * 1024

# Secrets Manager: $0.05 per 10,000 API calls.
SECRETS_MANAGER_PER_CALL = 0.05 / 10_000

# What the platform is compared with, per million events (their published list prices).
HOOKDECK_PER_MILLION = 10.0
SVIX_PER_MILLION = 100.0

# API Gateway WebSocket API: messages (either way, per 32 KB chunk) and connection minutes.
WEBSOCKET_PER_MESSAGE = 1.00 / MILLION
WEBSOCKET_MESSAGE_CHUNK_BYTES = 32 * 1024
WEBSOCKET_PER_CONNECTION_MINUTE = 0.25 / MILLION
