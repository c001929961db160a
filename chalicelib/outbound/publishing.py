"""Events published by other services through ``POST /events``.

With an ``Idempotency-Key`` the event id is derived from the tenant and the
key, so a repeated request finds the recorded event instead of making a second
one: the same type and data answer 200 with the original (and complete its
fan-out if the first request failed half-way); different content is a 422
``IDEMPOTENCY_KEY_REUSED``, as for runs.
"""

from __future__ import annotations

import hashlib
import re

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.core.errors import FieldError, ServiceUnavailable, Unprocessable, ValidationFailed
from chalicelib.events import store as events
from chalicelib.events.emit import emit
from chalicelib.events.models import PlatformEvent
from chalicelib.outbound import fanout
from chalicelib.outbound.models import PublishEventRequest


class IdempotencyKeyReused(Unprocessable):
    """The same code as runs use for a key sent again with different content."""

    code = "IDEMPOTENCY_KEY_REUSED"


_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


def event_id_for_key(tenant_id: str, key: str) -> str:
    if not _KEY.match(key):
        raise ValidationFailed(
            "Idempotency-Key must be 1-255 visible ASCII characters.", [FieldError("Idempotency-Key", "invalid")]
        )
    return "evt-" + hashlib.sha256(f"{tenant_id}\n{key}".encode()).hexdigest()[:20]


def publish(
    tenant_id: str, request: PublishEventRequest, idempotency_key: str | None, caller: str
) -> tuple[PlatformEvent, bool]:
    """Record and fan out; the flag says whether this call created the event."""
    event_id = event_id_for_key(tenant_id, idempotency_key) if idempotency_key else None
    if event_id:
        recorded = events.get(tenant_id, event_id)
        if recorded is not None:
            if recorded.type != request.type or recorded.data != request.data:
                raise IdempotencyKeyReused("This Idempotency-Key was used for a different event.")
            return _resumed(tenant_id, event_id) or recorded, False
    try:
        event = emit(tenant_id, request.type, request.data, source=request.source or caller, event_id=event_id)
    except (BotoCoreError, ClientError, RuntimeError) as exc:
        raise _unavailable() from exc
    if event.type != request.type or event.data != request.data:
        raise IdempotencyKeyReused("This Idempotency-Key was used for a different event.")
    return event, True


def _unavailable() -> ServiceUnavailable:
    """The event may be recorded; a retry with the same key completes its fan-out."""
    return ServiceUnavailable(
        "The event could not be fully published; repeat the request with the same Idempotency-Key.",
        headers={"Retry-After": "1"},
    )


def _resumed(tenant_id: str, event_id: str) -> PlatformEvent | None:
    try:
        return fanout.resume(tenant_id, event_id)
    except (BotoCoreError, ClientError, RuntimeError) as exc:
        raise _unavailable() from exc
