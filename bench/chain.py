"""The documented AWS call chain: the most a warm path may spend, per phase (docs/performance.md, "Cost per event").

``tests/bench/test_call_chain.py`` fails when a warm inbound delivery, a
dispatch or a run takes a call or a write unit more than written here (a tiny
body, one subscriber); ``bench.cost`` prints the chain as measured. Lower a
figure when a change saves a call, so it stays saved.
"""

from __future__ import annotations

Chain = dict[str, dict[str, int]]

# A signed vendor delivery: stored and queued by the API, turned into its event by the consumer.
INBOUND: Chain = {
    "api": {"dynamodb.PutItem": 1, "sqs.SendMessage": 1},
    # the queue message carries the rest (inbound.handoff); PutItem: the event (first, conditional); UpdateItem:
    # the delivery marked Processed, and the "accepted" count, one ADD on the stats hour item per batch
    # (issue 11, docs/observability.md). No transaction: it would bill both writes twice.
    "consumer": {"dynamodb.PutItem": 1, "dynamodb.UpdateItem": 2},
}
# delivery item 1 + its keys-only byConnection entry 1 + its inflight entry 1; then the event put 1 (its
# payload is the delivery's: payloadRef), the delivery update 1 + its inflight entry removed 1;
# + the stats hour item's ADD 2 (it holds per-minute counters and a latency histogram, over 1 KB).
INBOUND_WRU = 8.0

# One event to one subscriber: fanned out by the stream, sent by the dispatcher.
DISPATCH: Chain = {
    # the GetItem: an inbound event's payload, read from the delivery that holds it (events.store). No PutEvents:
    # the platform bus gets an event only through an eventbridge destination (issue 22).
    "stream": {"dynamodb.GetItem": 1, "sqs.SendMessageBatch": 1},
    # BatchGetItem: the subscription and the delivery's latest status (a copy already sent is dropped), one per batch;
    # PutItem: the attempt's log item, then its status item (conditional: it never goes back within a delivery);
    # UpdateItem: the attempt counted on the subscription's stats hour item (one per subscription and hour per batch).
    "dispatcher": {"dynamodb.BatchGetItem": 1, "dynamodb.PutItem": 2, "dynamodb.UpdateItem": 1},
}
DISPATCH_WRU = 4.0  # the attempt log item and the event's status item, + the stats hour item's ADD 2

# An operation run: started by the API, driven by the run worker (its events' dispatch is DISPATCH, per event).
RUN: Chain = {
    "api": {"dynamodb.GetItem": 1, "dynamodb.PutItem": 1, "sqs.SendMessage": 1},
    # UpdateItem: the run's claim, and the vendor call counted on the connection's stats hour item.
    # GetItem: the run, the connection, and the vendor-protection item (breaker state; docs/adapters.md).
    "run worker": {"dynamodb.GetItem": 3, "dynamodb.TransactWriteItems": 2, "dynamodb.UpdateItem": 2},
}
# 16 + the stats hour item's ADD 2 (18 + 2 while the runs byConnection index copied every attribute)
# + 1: the events' keys-only byTime index entries (GET /events?since=, issue 24; docs/decisions.md "Live events")
RUN_WRU = 19.0
