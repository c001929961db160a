"""What a writer is given (``Envelope``) and what it answers (``Outcome``), for every destination type.

A webhook POST (``chalicelib.outbound.sender``) and an AWS write
(``chalicelib.destinations.delivery``) answer the same ``Outcome``, so the
dispatcher's retry schedule, attempt log, dead letters, health and stats treat
every destination alike.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Outcome:
    """One attempt's result. ``status_code`` is the receiver's HTTP status (for an AWS write, 200 or the status
    AWS answered a failure with); None when nothing answered. ``refused``: the platform did not send at all."""

    status_code: int | None
    latency_ms: int
    response_body: str | None = None
    error: str | None = None
    retry_after: float | None = None
    refused: bool = False

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass(frozen=True)
class Envelope:
    """One delivery of one event to one subscription: the body a webhook would receive, and what travels beside it.

    ``ordering_value`` is the subscription's ordering key's value for this event (None when it has none);
    ``deduplication_id`` is the same for every copy and retry of this delivery (a FIFO queue or topic drops a
    copy sent within its five-minute window).
    """

    tenant_id: str
    subscription_id: str
    event_id: str
    event_type: str
    timestamp: str
    body: bytes
    ordering_value: str | None
    deduplication_id: str
