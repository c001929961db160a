"""Delivery-status notifications (SES via SNS, Twilio status callbacks) recorded on the run that sent them.

The run is found without a lookup table: SES copies the ``runId`` tag the
``SendEmail`` run set into ``mail.tags``; a Twilio status callback URL carries
``?runId=`` (its signature covers it), which ingest adds to the payload. The run
gets ``delivery: {status, at, detail}``; the update is conditional on the run
being the same tenant's (the key) and the same connection's, and never moves a
status back (``rank``: a late "sent" does not overwrite "delivered"). Safe to
repeat, so ingest (and redrive) run it before the commit, and a vendor retry repeats it.
"""

from __future__ import annotations

from typing import Any

from chalicelib.core import aws
from chalicelib.core.dynamo import serialize
from chalicelib.core.timestamps import now_text
from chalicelib.inbound.models import Delivery

RANK = {"queued": 1, "accepted": 1, "sending": 2, "send": 2, "sent": 3}  # anything else is final: 4
SES_EVENTS = {"Send", "Delivery", "Bounce", "Complaint", "Reject", "DeliveryDelay", "RenderingFailure"}


def _ses(payload: dict[str, Any]) -> tuple[str, str, str | None] | None:
    event = payload.get("eventType") or payload.get("notificationType")
    mail = payload.get("mail")
    if event not in SES_EVENTS or not isinstance(mail, dict):
        return None
    tags = mail.get("tags")
    tags = tags if isinstance(tags, dict) else {}
    run_ids = tags.get("runId") or []
    detail = (payload.get("bounce") or {}).get("bounceType") if event == "Bounce" else None
    return (str(run_ids[0]), str(event).lower(), detail) if run_ids else None


def _twilio(payload: dict[str, Any]) -> tuple[str, str, str | None] | None:
    run_id, status = payload.get("runId"), payload.get("MessageStatus")
    if not run_id or not status:
        return None
    return str(run_id), str(status), payload.get("ErrorCode")


READERS = {"prov-aws-ses": _ses, "prov-twilio-sms": _twilio}  # built-in provider ids


def record(delivery: Delivery) -> bool:
    """Set the run's ``delivery``; False when the notification names no run of this connection."""
    from chalicelib.runs import store as runs  # the runs models reach the adapters: only status notifications pay

    reader = READERS.get(delivery.provider_id)
    found = reader(delivery.payload) if reader else None
    if found is None:
        return False
    run_id, status, detail = found
    rank = RANK.get(status, 4)
    value = {"status": status, "at": now_text(), "rank": rank, "deliveryId": delivery.delivery_id}
    if detail:
        value["detail"] = str(detail)
    client = aws.dynamodb()
    try:
        client.update_item(
            TableName=runs.TABLE.name,
            Key=runs.TABLE.key(delivery.tenant_id, run_id),
            UpdateExpression="SET #delivery = :value",
            ConditionExpression=(
                "connectionId = :connection AND (attribute_not_exists(#delivery) OR #delivery.#rank <= :rank)"
            ),
            ExpressionAttributeNames={"#delivery": "delivery", "#rank": "rank"},
            ExpressionAttributeValues=serialize(
                {":value": value, ":connection": delivery.connection_id, ":rank": rank}
            ),
        )
    except client.exceptions.ConditionalCheckFailedException:
        return False
    return True
