"""Whether the platform may write to a destination for a tenant: ``verify``, at subscription create and update.

AWS has no read-only check of a cross-account write grant (IAM's policy
simulator sees only the caller's own account), so the proof is a real write
of a verification message through the tenant-tagged role session: exactly
the call every delivery makes, refused by AWS exactly when a delivery would
be. The message is an event of type ``destination.verification`` (a body
``{"id", "type", "timestamp", "data": {}}``, the attributes of any delivery),
which consumers skip by its type (docs/webhooks-outbound.md "Destinations").

A write that went through proves the role may write, not that the grant is
this tenant's: a policy that grants the writer role without conditioning on
``aws:PrincipalTag/tenantId`` would let any tenant aim at the resource. AWS
enforces the condition on the write itself; moto does not, so the platform
also reads the resource policy and requires an Allow of the write action to
the writer role (or its account) with ``StringEquals`` on
``aws:PrincipalTag/tenantId`` naming this tenant. Where AWS does not let the
writer role read a policy across accounts (EventBridge bus policies grant only
``PutEvents``, ``PutRule`` and ``PutTargets``), the same question is asked of
AWS instead: a second verification under a session tagged with no tenant
must be refused.

Webhooks are checked by the URL policy where subscriptions are stored; the
platform's own bus needs no grant (the function's own role writes it).
"""

from __future__ import annotations

import fnmatch
import json
import secrets
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.core import aws
from chalicelib.core.config import get_settings
from chalicelib.core.errors import ApiError, ServiceUnavailable, is_transient
from chalicelib.core.timestamps import now_text
from chalicelib.destinations import delivery
from chalicelib.destinations.base import Envelope
from chalicelib.destinations.errors import DestinationAccessDenied
from chalicelib.destinations.models import (
    AwsDestination,
    Destination,
    EventBridgeDestination,
    KinesisDestination,
    SnsDestination,
    SqsDestination,
    WebhookDestination,
)

VERIFICATION_TYPE = "destination.verification"
CONDITION_KEY = "aws:PrincipalTag/tenantId"
# A session tag no tenant has: the probe that a policy conditions on the tenant (an empty id is never a tenant).
NO_TENANT = ""
# What a destination needs granted: the write, and the read of its policy.
WRITE_ACTIONS: dict[type[Any], str] = {
    SqsDestination: "sqs:SendMessage",
    SnsDestination: "sns:Publish",
    EventBridgeDestination: "events:PutEvents",
    KinesisDestination: "kinesis:PutRecord",
}
POLICY_READS: dict[type[Any], str] = {
    SqsDestination: "sqs:GetQueueAttributes",
    SnsDestination: "sns:GetTopicAttributes",
    EventBridgeDestination: "events:DescribeEventBus",
    KinesisDestination: "kinesis:GetResourcePolicy",
}
_NOUNS: dict[type[Any], str] = {
    SqsDestination: "queue",
    SnsDestination: "topic",
    EventBridgeDestination: "event bus",
    KinesisDestination: "stream",
}
_DENIED_CODES = frozenset(
    {"AccessDenied", "AccessDeniedException", "AuthorizationError", "AuthorizationErrorException"}
)


def verify(tenant_id: str, destination: Destination, subscription_id: str | None = None) -> None:
    """Return when the platform may write to ``destination`` for ``tenant_id`` and for no other tenant.

    Raises ``DestinationAccessDenied`` (422) naming the missing permission, or ``ServiceUnavailable`` (503)
    when AWS failed for now (a throttle, a 5xx, a timeout) and the same request may pass later.
    """
    if isinstance(destination, WebhookDestination):
        return
    if isinstance(destination, EventBridgeDestination) and destination.platform_bus:
        return
    action = WRITE_ACTIONS[type(destination)]
    _write(tenant_id, destination, action, subscription_id)
    policy = _policy(tenant_id, destination)
    if policy is None:
        if _write_refused(destination, action):
            return
        raise DestinationAccessDenied(
            action,
            f"the {_NOUNS[type(destination)]} policy lets the platform write for any tenant; condition "
            f"{action} on {CONDITION_KEY} = {tenant_id} (docs/webhooks-outbound.md)",
        )
    missing = why_not_granted(policy, action, str(destination.arn), tenant_id)
    if missing:
        raise DestinationAccessDenied(action, missing)


def verification(tenant_id: str, subscription_id: str | None) -> Envelope:
    """The verification message: a platform event of its own type, with the attributes of any delivery."""
    event_id = f"vrf_{secrets.token_hex(12)}"
    timestamp = now_text()
    body = {"id": event_id, "type": VERIFICATION_TYPE, "timestamp": timestamp, "data": {}}
    return Envelope(
        tenant_id=tenant_id,
        subscription_id=subscription_id or "",
        event_id=event_id,
        event_type=VERIFICATION_TYPE,
        timestamp=timestamp,
        body=json.dumps(body, separators=(",", ":")).encode(),
        ordering_value=VERIFICATION_TYPE,
        deduplication_id=event_id,
    )


def _write(tenant_id: str, destination: AwsDestination, action: str, subscription_id: str | None) -> None:
    try:
        delivery.write(destination, verification(tenant_id, subscription_id))
    except delivery.EntryFailed as exc:
        raise DestinationAccessDenied(action, f"{action} was refused: {exc}") from exc
    except (BotoCoreError, ClientError) as exc:
        raise _refusal(exc, action) from exc


def _refusal(error: BotoCoreError | ClientError, action: str) -> ApiError:
    """The API error for an AWS failure of ``action``: 503 if it may pass later, else 422 naming ``action``."""
    if isinstance(error, ClientError) and not is_transient(error):
        return DestinationAccessDenied(action, f"{action} was refused: {delivery.describe(error)}")
    return ServiceUnavailable()


def _policy(tenant_id: str, destination: AwsDestination) -> dict[str, Any] | None:
    """The resource's policy as read through the tenant's session ({} when it has none); None when AWS does not
    let the writer role read it (it grants only the write across accounts)."""
    try:
        text = _read_policy(tenant_id, destination)
    except (BotoCoreError, ClientError) as exc:
        if isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") in _DENIED_CODES:
            return None
        raise _refusal(exc, POLICY_READS[type(destination)]) from exc
    try:
        policy = json.loads(text) if text else {}
    except ValueError:
        policy = {}
    return policy if isinstance(policy, dict) else {}


def _read_policy(tenant_id: str, destination: AwsDestination) -> str | None:
    arn = destination.arn
    if isinstance(destination, SqsDestination):
        url = f"https://sqs.{arn.region}.amazonaws.com/{arn.account}/{arn.resource}"
        answer = aws.as_tenant("sqs", tenant_id).get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])
        return answer.get("Attributes", {}).get("Policy")  # type: ignore[no-any-return]
    if isinstance(destination, SnsDestination):
        answer = aws.as_tenant("sns", tenant_id).get_topic_attributes(TopicArn=str(arn))
        return answer.get("Attributes", {}).get("Policy")  # type: ignore[no-any-return]
    if isinstance(destination, EventBridgeDestination):
        return aws.as_tenant("events", tenant_id).describe_event_bus(Name=str(arn)).get("Policy")  # type: ignore[no-any-return]
    return aws.as_tenant("kinesis", tenant_id).get_resource_policy(ResourceARN=str(arn)).get("Policy")  # type: ignore[no-any-return]


def _write_refused(destination: AwsDestination, action: str) -> bool:
    """Whether AWS refuses the write to a session tagged with no tenant: the policy's condition, asked of AWS."""
    try:
        delivery.write(destination, verification(NO_TENANT, None))
    except delivery.EntryFailed:
        return True
    except (BotoCoreError, ClientError) as exc:
        if isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") in _DENIED_CODES:
            return True
        raise _refusal(exc, action) from exc
    return False


def why_not_granted(policy: dict[str, Any], action: str, resource: str, tenant_id: str) -> str | None:
    """None when ``policy`` allows ``action`` on ``resource`` to the writer role (or its account) only for
    sessions tagged ``tenantId`` = ``tenant_id``; otherwise what is missing, as the 422 says it."""
    statements = policy.get("Statement", [])
    statements = [statements] if isinstance(statements, dict) else statements
    wanted = f"on condition {CONDITION_KEY} = {tenant_id}"
    if not statements:
        return f"the destination has no resource policy; grant {action} to the platform's writer role {wanted}"
    allowing = [s for s in statements if isinstance(s, dict) and _allows(s, action, resource)]
    if not allowing:
        return f"the resource policy does not grant {action} to the platform's writer role ({wanted})"
    if not any(tenant_id in _tenants(s) for s in allowing):
        return f"the resource policy grants {action} to the platform's writer role, but not {wanted}"
    return None


def _listed(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [str(item) for item in value] if isinstance(value, list) else []


def _allows(statement: dict[str, Any], action: str, resource: str) -> bool:
    """An Allow of ``action`` on ``resource`` whose principal is the writer role or the platform's account."""
    if statement.get("Effect") != "Allow":
        return False
    if not any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in _listed(statement.get("Action"))):
        return False
    resources = _listed(statement.get("Resource", "*"))
    if not any(fnmatch.fnmatchcase(resource, pattern) for pattern in resources):
        return False
    principal = statement.get("Principal", {})
    named = _listed(principal.get("AWS")) if isinstance(principal, dict) else []
    role_arn = get_settings().destination_role_arn
    account = role_arn.split(":")[4]
    return bool({role_arn, account, f"arn:aws:iam::{account}:root"} & set(named))


def _tenants(statement: dict[str, Any]) -> set[str]:
    """The tenant ids the statement's ``StringEquals`` on ``aws:PrincipalTag/tenantId`` admits."""
    conditions = statement.get("Condition", {})
    equals = conditions.get("StringEquals", {}) if isinstance(conditions, dict) else {}
    if not isinstance(equals, dict):
        return set()
    found: set[str] = set()
    for key, value in equals.items():
        if key.lower() == CONDITION_KEY.lower():
            found.update(_listed(value))
    return found
