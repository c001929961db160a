"""The one DynamoDB item that holds a connection's vendor-protection state.

It lives in the rate-limits table under ``<tenantId>#vendor#<connectionId>``
(tenant first, like every key) and carries both the token bucket's ``tat``
(GCRA's theoretical arrival time, epoch seconds) and the breaker's
``failures`` / ``openUntil`` / ``probeUntil``. Keeping them in one item lets the
bucket's ``UpdateItem`` return the breaker state with it (``ALL_NEW``), so a
vendor call costs one DynamoDB call when the breaker is closed. The item expires
through the table's TTL a day after its last change.
"""

from __future__ import annotations

from typing import Any

from chalicelib.core import aws
from chalicelib.core.config import get_settings

TTL_SECONDS = 24 * 3600


def key(tenant_id: str, connection_id: str) -> dict[str, Any]:
    return {"bucket": {"S": f"{tenant_id}#vendor#{connection_id}"}}


def table() -> str:
    return get_settings().table_name("rate-limits")


def number(value: float) -> dict[str, str]:
    return {"N": f"{value:.6f}"}


def decoded(raw: dict[str, Any] | None) -> dict[str, float]:
    """The numeric attributes of a raw item (``tat``, ``failures``, ``openUntil``, ``probeUntil``)."""
    return {name: float(value["N"]) for name, value in (raw or {}).items() if "N" in value}


def read(tenant_id: str, connection_id: str) -> dict[str, float]:
    response = aws.dynamodb().get_item(TableName=table(), Key=key(tenant_id, connection_id), ConsistentRead=True)
    return decoded(response.get("Item"))
