"""The "Cost per event" section of docs/performance.md, from ``python -m bench.cost``'s RESULT line.

``BEFORE`` holds the same bench's figures at commit 9ee400c (the inbound consumer
committing the delivery's ``Processed`` mark and its event in one transaction),
so the page shows what writing them as two ordered conditional writes saved
(0a6b17d's figures are quoted in the history paragraph).
The floor is what a scenario costs with no DynamoDB at all (every other line of
its bill), so it says which targets any storage design can still meet.
"""

from __future__ import annotations

from typing import Any

from bench import chain, prices

BEFORE = {
    "1 inbound -> 1 subscriber": 23.45,
    "1 inbound -> 5 subscribers": 44.08,
    "batches of 10, 1 subscriber": 18.89,
    "25 KB GitHub push -> 1 subscriber": 42.49,
    "async run -> 1 subscriber": 41.26,
}
TARGETS = {"1 inbound -> 1 subscriber": 8.0, "25 KB GitHub push -> 1 subscriber": 10.0}


def floor(figures: dict[str, Any]) -> float:
    """The scenario's dollars per million with zero DynamoDB: the front, SQS, EventBridge, Lambda."""
    return float(sum(v for line, v in figures["bill"].items() if not line.startswith("dynamodb")))


def section(result: dict[str, Any]) -> list[str]:
    tiny, batched = result["1 inbound -> 1 subscriber"], result["batches of 10, 1 subscriber"]
    large = result["25 KB GitHub push -> 1 subscriber"]
    rows = []
    for name, figures in result.items():
        target = TARGETS.get(name)
        verdict = "" if target is None else ("met" if figures["dollarsPerMillion"] <= target else "**missed**")
        rows.append(
            f"| {name} | {figures['calls']:g} + {figures['esmCalls']:g} | {figures['wru']:g} | {figures['rru']:g} "
            f"| ${BEFORE.get(name, 0):.2f} | ${figures['dollarsPerMillion']:.2f} | ${figures['httpApi']:.2f} "
            f"| ${figures['functionUrl']:.2f} | ${floor(figures):.2f} "
            f"| {'' if target is None else f'<= ${target:.0f} {verdict}'} |"
        )
    documented = [
        f"- {title}: {_chain(documented_chain)} ({wru:g} WRU)"
        for title, documented_chain, wru in (
            ("Inbound delivery", chain.INBOUND, chain.INBOUND_WRU),
            ("Dispatch of one event to one subscriber", chain.DISPATCH, chain.DISPATCH_WRU),
            ("Run", chain.RUN, chain.RUN_WRU),
        )
    ]
    return [
        "## Cost per event",
        "",
        "`python -m bench.cost`: every scenario runs the real handlers in-process on moto, end to end (API,",
        "inbound consumer, events stream, dispatcher, run worker; Lambda's event sources played by",
        "`bench/pipeline.py`), and meters every AWS call, ours and the SQS event source mappings'",
        "(`ReceiveMessage`, `DeleteMessageBatch`). DynamoDB units are *computed from item sizes* by DynamoDB's",
        "rules (moto's `ConsumedCapacity` is a constant): per KB written, doubled in a transaction, plus each",
        "global secondary index entry written or removed; per 4 KB read, halved when eventually consistent",
        "(`bench/capacity.py`). Prices: `bench/prices.py` (us-east-1 list). Lambda GB-seconds are this machine's",
        "handler times against moto at 512 MB, with a subscriber that answers at once. Stream reads are free.",
        "Scenarios send one event at a time (batch size 1: the worst case) except the batch row.",
        "",
        "| Scenario (per event) | AWS calls (ours + mappings') | WRU | RRU | $/M before | $/M now (REST) "
        "| HTTP API | Function URL | Floor (no DynamoDB) | Target |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        f"For comparison: Hookdeck ${prices.HOOKDECK_PER_MILLION:.0f}/M, Svix ${prices.SVIX_PER_MILLION:.0f}/M.",
        "",
        "The documented chain (`bench/chain.py`; `tests/bench/test_call_chain.py` fails when a warm path",
        "takes a call or a write unit more):",
        "",
        *documented,
        "",
        "Where the dollars go (tiny body, one subscriber, REST): the API front $3.50, SQS $2.40 (two hops, three",
        "requests each), EventBridge $1.00 (every platform event is put on the bus for other services),",
        "Lambda about $1.00, and DynamoDB writes $1.25 per WRU. Those non-DynamoDB lines alone are about",
        "$8, so the $8 target for a tiny body is out of reach while a delivery crosses two queues and the",
        "bus; a 25 KB body adds its compressed size (about 6 KB) twice: the delivery's put and its",
        "`Processed` update (an update bills the whole item); the event no longer carries it.",
        "",
        "The per-connection and per-subscription numbers (issue 11) add one `UpdateItem ... ADD` on the stats",
        "hour item per (series, hour) per handler batch: the consumer's `accepted`, the dispatcher's attempt, the",
        "run worker's call. At batch size 1 that is two writes per delivered event, 1 to 2 WRU each (the hour item",
        "carries per-minute counters and grows past 1 KB in a busy hour): about $2.50 to $5 per million here.",
        "The stats table's `byTenant` index projects keys only, so an `ADD` writes no index entry (one when the",
        "hour item is created); `GET /metrics` for the whole tenant pays a `BatchGetItem` instead. The vendor",
        "protection item (rate limit, circuit breaker) adds one consistent `GetItem` per run.",
        "",
        'What changed, this table\'s "before" (9ee400c) to "now": the inbound consumer no longer commits the',
        "delivery's `Processed` mark and its event in one `TransactWriteItems`, which bills every unit twice",
        "and, through the mark, the whole stored payload twice. It puts the event first (conditional; its id is",
        "derived from the delivery's) and then marks the delivery (conditional on `Received` or `Failed`): a",
        "failure between leaves the delivery `Received` with its event recorded, and the retry, the sweeper's",
        "re-send or a redrive finds the event and only marks it; the dead-letter consumer marks a delivery whose",
        "event exists `Processed`, never `Failed` (docs/decisions.md). 2 WRU less on a tiny delivery, 7 at 25 KB.",
        "",
        "Earlier (issue 14, item 3; 0a6b17d's figures were $20.79 tiny, $49.77 at 25 KB): the event item is",
        "never rewritten (`fannedOutAt` is gone), its data is compressed (`dataZ`), and the deliveries",
        "`byConnection` index projects keys only. Then an inbound event references its delivery's payload",
        "(`payloadRef`) instead of storing a second compressed copy, and the readers (`GET /events/{id}`,",
        "redelivery, the stream's fan-out body and bus entry) put it back with one eventually consistent",
        '`GetItem` (docs/events.md, "Inbound payloads"; the event now expires with its delivery); the inbound',
        "queue message carries the event's metadata (`chalicelib/inbound/handoff.py`), so the consumer writes",
        "with no read (an ids-only message still works); the runs `byConnection` and API keys `byKeyHash`",
        "indexes project keys only (a runs page is a keys Query plus one `BatchGetItem`). The connections",
        "`byConnectionId` index keeps every attribute: the public ingest path reads the whole connection",
        "through it (cached 30 s), connections are written rarely, and keys only would add a `GetItem` there.",
        "Before 9ee400c the per-connection numbers (issue 11) added the stats writes above (tiny: $23.45 then).",
        "",
        'Not done, and why (docs/decisions.md, "Cost per event"): one attempt item on a first-try success',
        "(1 WRU, $1.25/M) would need a log key `GET /events/{id}` can compute, so every event view would read",
        "one key per subscription of the tenant, redeliveries would need keys of their own and the attempts",
        "log would sort first-try successes by event time: declined. The largest DynamoDB line left at 25 KB is",
        "the delivery's `Processed` update, which rewrites the whole delivery (its payload): a status item apart",
        "from the payload would save about 6 WRU in the consumer and cost 1 more at receipt (about $6/M at",
        "25 KB) and change every delivery reader: declined for now. The sparse `inflight` index entry (written",
        "at receipt, removed at the mark) is 2 WRU ($2.50/M) and is how the sweeper finds a delivery whose",
        "hand-off was lost: it stays.",
        "",
        "Floor: with zero DynamoDB a delivery still costs the REST front $3.50, two SQS hops, one EventBridge",
        f"entry and four Lambda invocations: ${floor(tiny):.2f}/M at batch 1 (SQS ${tiny['bill']['sqs']:.2f},",
        f"Lambda ${tiny['bill']['lambda requests'] + tiny['bill']['lambda GB-s']:.2f}), ${floor(large):.2f}/M",
        f"with a 25 KB body, and ${floor(batched):.2f}/M at batch 10 (SQS ${batched['bill']['sqs']:.2f},",
        f"Lambda ${batched['bill']['lambda requests'] + batched['bill']['lambda GB-s']:.2f}). Under the design",
        "in DESIGN.md (an inbound queue, every event on the bus) the targets read: <= $10 at 25 KB leaves",
        f"${10 - floor(large):.2f} at batch 1 (about {int((10 - floor(large)) / 1.25)} WRU) and",
        f"${10 - floor(batched):.2f} at batch 10 for DynamoDB, while storing the 25 KB payload once (about",
        "6 KB compressed) already takes 6-7 WRU: missed unless the payload leaves DynamoDB's write path or",
        f"batches are larger; <= $8 tiny is out of reach at batch 1 (floor ${floor(tiny):.2f}) and leaves",
        f"${8 - floor(batched):.2f} at batch 10, less than the two items a delivery needs at minimum (the",
        "delivery and its event, 2 WRU, $2.50): missed by about $0.50 even then; the $5 moonshot is out of",
        "reach at any batch size (the front and the bus alone are $4.50, those two items $2.50).",
        "Beyond this design: dropping the inbound queue hop (the API commits the",
        "delivery and its event) takes about $1.50 off the floor at batch 1 and an HTTP API front $2.50; with",
        f"both the floor is near ${floor(tiny) - 4.0:.2f}, and $8 tiny then needs DynamoDB at 3 WRU or less",
        f"(today {tiny['wru']:g}).",
        "",
        "The front: an API Gateway HTTP API ($1.00/M) saves $2.50 per million events, a Lambda Function URL",
        "(no charge beyond Lambda) $3.50. Both lose what the REST API gives the platform today: usage plans",
        "and API keys at the edge, request validation, AWS WAF, per-method throttling, and, for a Function",
        "URL, custom domains and the stage/route layer (one function answers every path; it would need",
        "CloudFront for a domain). The platform already checks JWTs, API keys and rate limits itself, so an",
        "HTTP API loses least; the webhook ingest route alone is the natural first candidate.",
        "",
    ]


def _chain(phases: chain.Chain) -> str:
    return "; ".join(f"{phase}: " + ", ".join(f"{n}x `{op}`" for op, n in ops.items()) for phase, ops in phases.items())
