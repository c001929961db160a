"""Subscription items and the attempts log.

Subscriptions: partition ``tenantId``, sort ``subscriptionId``. The attempts
table holds two kinds of tenant-first partitions: ``<tenantId>#<subscriptionId>``
is a subscription's attempt log (sort ``<iso time>#<attemptId>``, newest last),
and ``<tenantId>#<eventId>`` holds one latest-status item per subscription for
that event, so ``GET /events/{id}`` needs one Query and no Scan. An attempt
writes its log item, then its status item under a condition that keeps a
delivery's status from going back (``record_attempt``); a fan-out delivery's
first-try success writes only its log item, under a key its readers compute
(``chalicelib.outbound.deliveries.first_try_key``), so ``GET /events/{id}``
also reads one log key per subscription (``first_tries``).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import time
from typing import Any

from chalicelib.core import aws, jsontext
from chalicelib.core.config import get_settings
from chalicelib.core.dynamo import Item, Table, batch_get_tables, deserialize, query_from, serialize
from chalicelib.core.errors import ValidationFailed
from chalicelib.outbound.config import get_outbound_settings
from chalicelib.outbound.models import Attempt, AttemptStatus, DeliveryStatus

SUBSCRIPTIONS = Table("subscriptions", sort_key="subscriptionId")


def attempts_table() -> str:
    return get_settings().table_name("attempts")


def subscription_key(tenant_id: str, subscription_id: str) -> str:
    return f"{tenant_id}#{subscription_id}"


def all_subscriptions(tenant_id: str) -> list[Item]:
    """Every subscription of the tenant: the fan-out Query (a tenant has few)."""
    items: list[Item] = []
    cursor: str | None = None
    while True:
        page = SUBSCRIPTIONS.query(tenant_id, limit=100, cursor=cursor)
        items.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return items


def _log_key(tenant_id: str, subscription_id: str, attempt_key: str) -> dict[str, Any]:
    return {"subscriptionKey": {"S": subscription_key(tenant_id, subscription_id)}, "attemptKey": {"S": attempt_key}}


def _by_delivery(items: list[Item]) -> dict[tuple[str, str, str], Item]:
    return {(i["tenantId"], i["eventId"], i["subscriptionId"]): i for i in items}


def dispatch_reads(
    subscriptions: set[tuple[str, str]],
    deliveries: set[tuple[str, str, str]],
    first_tries: set[tuple[str, str, str]],
) -> tuple[dict[tuple[str, str], Item], dict[tuple[str, str, str], Item], dict[tuple[str, str, str], Item]]:
    """A dispatcher batch's subscriptions, its deliveries' status items and first-try successes, in one
    consistent BatchGetItem.

    ``subscriptions`` are (tenant, subscription), ``deliveries`` (tenant, event, subscription), ``first_tries``
    (tenant, subscription, log key); the two found kinds of delivery item are keyed (tenant, event,
    subscription). Consistent: a disabling applies at once, and an attempt recorded a moment ago is seen.
    """
    found = batch_get_tables(
        {
            SUBSCRIPTIONS.name: [SUBSCRIPTIONS.key(tenant, sub) for tenant, sub in sorted(subscriptions)],
            attempts_table(): [
                {"subscriptionKey": {"S": f"{tenant}#{event}"}, "attemptKey": {"S": sub}}
                for tenant, event, sub in sorted(deliveries)
            ]
            + [_log_key(tenant, sub, key) for tenant, sub, key in sorted(first_tries)],
        },
        consistent=True,
    )
    subs = (deserialize(raw) for raw in found[SUBSCRIPTIONS.name])
    attempts = [deserialize(raw) for raw in found[attempts_table()]]
    statuses = [i for i in attempts if "attemptId" not in i]  # a log item names its attempt; a status item does not
    statuses = [i | {"eventId": i["subscriptionKey"][len(i["tenantId"]) + 1 :]} for i in statuses]
    return (
        {(item["tenantId"], item["subscriptionId"]): item for item in subs},
        _by_delivery(statuses),
        _by_delivery([i for i in attempts if "attemptId" in i]),
    )


def first_tries(tenant_id: str, keys: set[tuple[str, str]]) -> list[Item]:
    """The first-try successes found among (subscription, ``deliveries.first_try_key``) pairs (eventually
    consistent: a view, not a send decision)."""
    found = batch_get_tables({attempts_table(): [_log_key(tenant_id, sub, key) for sub, key in sorted(keys)]})
    return [deserialize(raw) for raw in found[attempts_table()]]


def mark_failing(tenant_id: str, subscription_id: str, now_iso: str) -> str:
    """Start the failing clock if it is not running; return when it started."""
    response = aws.dynamodb().update_item(
        TableName=SUBSCRIPTIONS.name,
        Key=SUBSCRIPTIONS.key(tenant_id, subscription_id),
        UpdateExpression="SET failingSince = if_not_exists(failingSince, :now)",
        ConditionExpression="attribute_exists(subscriptionId)",
        ExpressionAttributeValues=serialize({":now": now_iso}),
        ReturnValues="ALL_NEW",
    )
    return str(deserialize(response["Attributes"])["failingSince"])


def clear_failing(tenant_id: str, subscription_id: str) -> None:
    client = aws.dynamodb()
    try:
        client.update_item(
            TableName=SUBSCRIPTIONS.name,
            Key=SUBSCRIPTIONS.key(tenant_id, subscription_id),
            UpdateExpression="REMOVE failingSince",
            ConditionExpression="attribute_exists(subscriptionId)",
        )
    except client.exceptions.ConditionalCheckFailedException:
        return


def _log_item(tenant_id: str, attempt: Attempt, attempt_key: str, expires_at: int) -> dict[str, Any]:
    item = attempt.model_dump(mode="json", by_alias=True, exclude_none=True)
    item.update(
        {
            "subscriptionKey": subscription_key(tenant_id, attempt.subscription_id),
            "attemptKey": attempt_key,
            "tenantId": tenant_id,
            "expiresAt": expires_at,
        }
    )
    return item


def record_attempt(
    tenant_id: str, attempt: Attempt, delivery_id: str | None = None, *, first_try_key: str | None = None
) -> None:
    """Record an attempt: a first-try success under ``first_try_key`` as one item; any other attempt as its log
    item, then the event's latest status for the subscription.

    The one item is written only if absent: a copy's success recorded first stands. The status never goes
    back within one delivery: a copy's attempt recorded late (sent again in the at-least-once window)
    leaves a later attempt's status, or a finished one, as it is. The log goes first, so a recorded status
    always has its log entry (recovery reads the log).
    """
    expires_at = int(time.time()) + get_outbound_settings().attempt_retention_days * 86400
    client = aws.dynamodb()
    if first_try_key is not None:
        only = _log_item(tenant_id, attempt, first_try_key, expires_at) | {"deliveryId": delivery_id}
        # a copy of this delivery that succeeded at its first try too, and was recorded first, stands
        with contextlib.suppress(client.exceptions.ConditionalCheckFailedException):
            client.put_item(
                TableName=attempts_table(), Item=serialize(only), ConditionExpression="attribute_not_exists(attemptKey)"
            )
        return
    log_item = _log_item(tenant_id, attempt, f"{attempt.attempted_at}#{attempt.attempt_id}", expires_at)
    status_item = DeliveryStatus(
        subscription_id=attempt.subscription_id,
        status=attempt.status,
        attempts=attempt.attempt,
        last_attempt_at=attempt.attempted_at,
        status_code=attempt.status_code,
        error=attempt.error,
        next_retry_at=attempt.next_retry_at,
    ).model_dump(mode="json", by_alias=True, exclude_none=True)
    status_item.update(
        {
            "subscriptionKey": f"{tenant_id}#{attempt.event_id}",
            "attemptKey": attempt.subscription_id,
            "tenantId": tenant_id,
            "expiresAt": expires_at,
        }
    )
    if delivery_id is not None:
        status_item["deliveryId"] = delivery_id
    client.put_item(TableName=attempts_table(), Item=serialize(log_item))
    try:
        client.put_item(
            TableName=attempts_table(),
            Item=serialize(status_item),
            ConditionExpression=(
                "attribute_not_exists(attempts) OR attribute_not_exists(deliveryId) OR deliveryId <> :delivery"
                " OR (#status = :retrying AND attempts <= :attempt)"
            ),
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=serialize(
                {":delivery": delivery_id or "", ":retrying": AttemptStatus.RETRYING.value, ":attempt": attempt.attempt}
            ),
        )
    except client.exceptions.ConditionalCheckFailedException:
        return  # a copy of this delivery recorded a later attempt or its end first: the status stays


def _encode(last_key: dict[str, Any] | None) -> str | None:
    """Only the sort key goes into the cursor; the partition is rebuilt from the caller."""
    if not last_key:
        return None
    sort_value = deserialize(last_key)["attemptKey"]
    return base64.urlsafe_b64encode(json.dumps(sort_value).encode()).decode().rstrip("=")


def _decode(cursor: str | None) -> str | None:
    if not cursor:
        return None
    try:
        value = jsontext.read(base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise ValidationFailed("The cursor is not valid.") from exc
    if not isinstance(value, str) or not 0 < len(value.encode()) <= 1024:  # DynamoDB's sort-key limit
        raise ValidationFailed("The cursor is not valid.")
    return value


def query_attempts(
    tenant_id: str,
    subscription_id: str,
    *,
    limit: int,
    cursor: str | None = None,
    since: str | None = None,
    newest_first: bool = True,
) -> tuple[list[Item], str | None]:
    partition = subscription_key(tenant_id, subscription_id)
    params: dict[str, Any] = {
        "TableName": attempts_table(),
        "KeyConditionExpression": "subscriptionKey = :pk",
        "ExpressionAttributeValues": {":pk": {"S": partition}},
        "ScanIndexForward": not newest_first,
        "Limit": limit,
    }
    if since:
        params["KeyConditionExpression"] += " AND attemptKey >= :since"
        params["ExpressionAttributeValues"][":since"] = {"S": since}
    start = _decode(cursor)
    start_key = {"subscriptionKey": {"S": partition}, "attemptKey": {"S": start}} if start else None
    response = query_from(params, start_key)
    items = [deserialize(raw) for raw in response.get("Items", [])]
    return items, _encode(response.get("LastEvaluatedKey"))


def event_statuses(tenant_id: str, event_id: str) -> list[Item]:
    items: list[Item] = []
    params: dict[str, Any] = {
        "TableName": attempts_table(),
        "KeyConditionExpression": "subscriptionKey = :pk",
        "ExpressionAttributeValues": {":pk": {"S": f"{tenant_id}#{event_id}"}},
    }
    client = aws.dynamodb()
    while True:
        response = client.query(**params)
        items.extend(deserialize(raw) for raw in response.get("Items", []))
        if "LastEvaluatedKey" not in response:
            return items
        params["ExclusiveStartKey"] = response["LastEvaluatedKey"]
