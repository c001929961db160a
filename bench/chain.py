"""The documented AWS call chain: the most a warm path may spend, per phase (docs/performance.md, "Cost per event").

``tests/bench/test_call_chain.py`` fails when a warm inbound delivery, a
dispatch or a run takes a call or a write unit more than written here (a tiny
body, one subscriber); ``bench.cost`` prints the chain as measured. Lower a
figure when a change saves a call, so it stays saved.
"""

from __future__ import annotations

Chain = dict[str, dict[str, int]]

# A signed vendor delivery: verified, normalized and committed with its event by the API, in one conditional
# put (chalicelib.inbound.store); the events stream does the rest (DISPATCH). No consumer (issue 23). Warm and at
# steady load the counters are amortized per container, so neither the API's rate limit (one UpdateItem a second
# per connection and container) nor its stats tallies (one UpdateItem on the hour item and one on the minute's item
# per series every 5 s per container; a quiet series' first at once) is in a warm chain;
# tests/bench/test_call_chain.py holds the interval open.
INBOUND: Chain = {"api": {"dynamodb.PutItem": 1}}
# the one item (delivery and event, the payload once in its data) 1 + its keys-only byConnection entry 1 + its
# keys-only byTime entry 1 (7 before issue 23: the delivery, its inflight entry, the event, the Processed mark).
INBOUND_WRU = 3.0

# One event to one subscriber: fanned out by the stream, sent by the dispatcher.
DISPATCH: Chain = {
    # an inbound event's payload is in its own item's data: the stream reads nothing (events.store). No PutEvents:
    # the platform bus gets an event only through an eventbridge destination (issue 22). SendMessageBatch: per
    # stream batch, ten messages to a request across its events (issue 23), so at most one per event.
    "stream": {"sqs.SendMessageBatch": 1},
    # BatchGetItem: the subscription and the delivery's latest status, its status item and its first-try success
    # (a copy already sent is dropped), one per batch; PutItem: a first-try success is one conditional item, the
    # attempt's log item keyed by the event's time and the delivery (issue 23); any other attempt writes its log item,
    # then its status item. No stats write: counts are held per container and flushed at most every few seconds
    # (issue 23, chalicelib.stats).
    "dispatcher": {"dynamodb.BatchGetItem": 1, "dynamodb.PutItem": 1},
}
# the first-try success's one attempt item (2 with a status item and 4 with the stats ADD per batch, before issue 23)
DISPATCH_WRU = 1.0

# An operation run: started by the API, driven by the run worker (its events' dispatch is DISPATCH, per event).
RUN: Chain = {
    "api": {"dynamodb.GetItem": 1, "dynamodb.PutItem": 1, "sqs.SendMessage": 1},
    # UpdateItem: the run's claim.
    # GetItem: the run, the connection, and the vendor-protection item (breaker state; docs/adapters.md).
    "run worker": {"dynamodb.GetItem": 3, "dynamodb.TransactWriteItems": 2, "dynamodb.UpdateItem": 1},
}
# 16 (18 while the runs byConnection index copied every attribute) + 1: the events' keys-only byTime index
# entries (GET /events?since=, issue 24; docs/decisions.md "Live events") + 1 as measured (19 while the stats
# hour item's ADD was written per batch, before issue 23)
RUN_WRU = 18.0
