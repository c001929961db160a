"""The "Cost per event" section of docs/performance.md, from ``python -m bench.cost``'s RESULT line.

``BEFORE`` holds the same bench's figures on the tree before issue 14's write
savings (commit 9a3b731, with ``bench/`` of this change copied in:
``git worktree add /tmp/before 9a3b731 && cp bench/*.py /tmp/before/bench/ &&
cd /tmp/before && python -m bench.cost``), so the page shows both.
"""

from __future__ import annotations

from typing import Any

from bench import chain, prices

BEFORE = {
    "1 inbound -> 1 subscriber": 22.09,
    "1 inbound -> 5 subscribers": 37.40,
    "batches of 10, 1 subscriber": 19.90,
    "25 KB GitHub push -> 1 subscriber": 57.40,
    "async run -> 1 subscriber": 39.61,
}
TARGETS = {"1 inbound -> 1 subscriber": 8.0, "25 KB GitHub push -> 1 subscriber": 10.0}


def section(result: dict[str, Any]) -> list[str]:
    rows = []
    for name, figures in result.items():
        target = TARGETS.get(name)
        verdict = "" if target is None else ("met" if figures["dollarsPerMillion"] <= target else "**missed**")
        rows.append(
            f"| {name} | {figures['calls']:g} + {figures['esmCalls']:g} | {figures['wru']:g} | {figures['rru']:g} "
            f"| ${BEFORE.get(name, 0):.2f} | ${figures['dollarsPerMillion']:.2f} | ${figures['httpApi']:.2f} "
            f"| ${figures['functionUrl']:.2f} | {'' if target is None else f'<= ${target:.0f} {verdict}'} |"
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
        "| HTTP API | Function URL | Target |",
        "|---|---|---|---|---|---|---|---|---|",
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
        "bus; a 25 KB body adds its compressed size (about 5 KB) three times, for the delivery's put, the",
        "delivery's Processed update inside the transaction (doubled) and the event's put (doubled).",
        "",
        "What changed (issue 14, item 3): the event item is never rewritten (`fannedOutAt` is gone) and its",
        "data is compressed (`dataZ`); the deliveries `byConnection` index projects keys only (it projected",
        "every attribute, so each delivery's payload was written twice and rewritten on Processed), and a list",
        "page is a keys Query plus one `BatchGetItem` (one more read call on `GET /webhooks/deliveries`).",
        "",
        "Not done yet, and what each would save per event: one attempt item instead of two on a first-try",
        "success (1 WRU, $1.25); the event referencing the delivery's payload instead of a second compressed",
        "copy (about 10 WRU, $12.50, at 25 KB); the runs `byConnection` index narrowed as the deliveries'",
        "was (about 3 WRU per run); carrying the delivery in the inbound message instead of re-reading it",
        "(0.5 to 1 RRU). The largest lever is structural: committing the delivery and its event in the API's",
        "own transaction would drop the inbound queue hop (3 SQS requests, a Lambda invocation, a read and",
        "the delivery's rewrite).",
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
