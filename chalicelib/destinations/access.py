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
AWS instead: a second verification under a session tagged ``PROBE_TENANT``
(a value the writer role's trust policy admits and no tenant id can take) must
be refused. Where the policy is readable it is read first, so a verification
never lands in a resource that is not this tenant's.

Only what a tenant's grant can fix is a 422 (access denied, a resource that
is not there, a KMS key the role may not use); a failure that may pass later is
a 503; anything else, the role assumption refused included, is the platform's
own fault: a 500, logged.

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
from chalicelib.core.logging import logger
from chalicelib.core.platform import PROBE_TENANT
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
    {
        "AccessDenied",
        "AccessDeniedException",
        "AuthorizationError",
        "AuthorizationErrorException",
        "NotAuthorizedForSourceException",
        "NotAuthorizedForDetailTypeException",
    }
)
# A resource that is not there (SQS answers either code, by protocol) and KMS refusals (codes start with KMS).
_MISSING_CODES = frozenset(
    {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist", "NotFound", "ResourceNotFoundException"}
)
# EventBridge's entry codes for a failure that may pass later (inside a 200, so botocore did not retry them).
_TRANSIENT_ENTRY_CODES = frozenset({"ThrottlingException", "InternalFailure", "InternalException"})


def _fixable(code: str) -> bool:
    """Whether the tenant's grant (or resource) can fix a refusal with this AWS code: a 422 naming the action."""
    return code in _DENIED_CODES or code in _MISSING_CODES or code.startswith("KMS")


def verify(tenant_id: str, destination: Destination, subscription_id: str | None = None) -> None:
    """Return when the platform may write to ``destination`` for ``tenant_id`` and for no other tenant.

    Raises ``DestinationAccessDenied`` (422) naming the missing permission, ``ServiceUnavailable`` (503)
    when AWS failed for now (a throttle, a 5xx, a timeout) and the same request may pass later, or ``ApiError``
    (500) when the platform itself is at fault (its writer role cannot be assumed, AWS refused a call as invalid).
    """
    if isinstance(destination, WebhookDestination):
        return
    if isinstance(destination, EventBridgeDestination) and destination.platform_bus:
        return
    action = WRITE_ACTIONS[type(destination)]
    policy = _policy(tenant_id, destination, action)
    if policy is not None:
        missing = why_not_granted(policy, action, str(destination.arn), tenant_id)
        if missing:
            raise DestinationAccessDenied(action, missing)
        _write(tenant_id, destination, action, subscription_id)
        return
    _write(tenant_id, destination, action, subscription_id)
    if not _write_refused(destination, action):
        raise DestinationAccessDenied(
            action,
            f"the {_NOUNS[type(destination)]} policy lets the platform write for any tenant; condition "
            f"{action} on {CONDITION_KEY} = {tenant_id} (docs/webhooks-outbound.md)",
        )


_BY_SERVICE: dict[str, type[Any]] = {
    "sqs": SqsDestination,
    "sns": SnsDestination,
    "events": EventBridgeDestination,
    "kinesis": KinesisDestination,
}
# The policy reads a tenant can grant: a bus policy grants only PutEvents, PutRule and PutTargets, and the
# check reads a stream's policy through AWS's answer to the probe, so those two grant the write alone.
_GRANTABLE_READS: tuple[type[Any], ...] = (SqsDestination, SnsDestination)


def grant(resource_arn: str, tenant_id: str, role_arn: str) -> dict[str, Any]:
    """The resource policy a tenant pastes (docs/webhooks-outbound.md "Granting the platform access"): the writer
    role may write to ``resource_arn`` (and read its policy, where it can be granted) only in sessions tagged
    with ``tenant_id``. The docs' JSON is this, with placeholders; the tests grant with it too."""
    kind = _BY_SERVICE[resource_arn.split(":")[2]]
    action: str | list[str] = WRITE_ACTIONS[kind]
    if kind in _GRANTABLE_READS:
        action = [WRITE_ACTIONS[kind], POLICY_READS[kind]]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "IntegrationPlatformWrites",
                "Effect": "Allow",
                "Principal": {"AWS": role_arn},
                "Action": action,
                "Resource": resource_arn,
                "Condition": {"StringEquals": {CONDITION_KEY: tenant_id}},
            }
        ],
    }


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
        raise _entry_refusal(exc, action) from exc
    except (BotoCoreError, ClientError) as exc:
        raise _refusal(exc, action) from exc


def _refusal(error: BotoCoreError | ClientError, action: str) -> ApiError:
    """The API error for an AWS failure of ``action``: 503 if it may pass later, 422 naming ``action`` if the
    tenant can fix it, else a 500 (the platform's role or request is at fault), logged."""
    if not isinstance(error, ClientError) or is_transient(error):
        return ServiceUnavailable()
    code = str(error.response.get("Error", {}).get("Code", ""))
    if error.operation_name != "AssumeRole" and _fixable(code):
        return DestinationAccessDenied(action, f"{action} was refused: {delivery.describe(error)}")
    return _platform_fault(action, delivery.describe(error))


def _entry_refusal(error: delivery.EntryFailed, action: str) -> ApiError:
    """The same for an EventBridge entry refused inside a 200."""
    if error.code in _TRANSIENT_ENTRY_CODES:
        return ServiceUnavailable()
    if _fixable(error.code):
        return DestinationAccessDenied(action, f"{action} was refused: {error}")
    return _platform_fault(action, str(error))


def _platform_fault(action: str, why: str) -> ApiError:
    logger.error("destination access check failed on the platform's side", extra={"action": action, "error": why})
    return ApiError("The platform could not check the destination's access; this is not the destination's fault.")


def _resource_denied(exc: Exception) -> bool:
    """AWS refused the call on the resource (its policy); a refused role assumption is the platform's own failure."""
    return (
        isinstance(exc, ClientError)
        and exc.operation_name != "AssumeRole"
        and exc.response.get("Error", {}).get("Code") in _DENIED_CODES
    )


def _policy(tenant_id: str, destination: AwsDestination, action: str) -> dict[str, Any] | None:
    """The resource's policy as read through the tenant's session ({} when it has none); None when AWS does not
    let the writer role read it (it grants only the write across accounts). A resource that is not there is a
    422 naming the write ``action``."""
    try:
        text = _read_policy(tenant_id, destination)
    except (BotoCoreError, ClientError) as exc:
        if _resource_denied(exc):
            return None
        raise _refusal(exc, action) from exc
    try:
        policy = json.loads(text) if text else {}
    except ValueError:
        policy = {}
    return policy if isinstance(policy, dict) else {}


def _read_policy(tenant_id: str, destination: AwsDestination) -> str | None:
    arn = destination.arn
    if isinstance(destination, SqsDestination):
        queue = destination.queue_url
        answer = aws.as_tenant("sqs", tenant_id).get_queue_attributes(QueueUrl=queue, AttributeNames=["Policy"])
        return answer.get("Attributes", {}).get("Policy")  # type: ignore[no-any-return]
    if isinstance(destination, SnsDestination):
        answer = aws.as_tenant("sns", tenant_id).get_topic_attributes(TopicArn=str(arn))
        return answer.get("Attributes", {}).get("Policy")  # type: ignore[no-any-return]
    if isinstance(destination, EventBridgeDestination):
        return aws.as_tenant("events", tenant_id).describe_event_bus(Name=str(arn)).get("Policy")  # type: ignore[no-any-return]
    return aws.as_tenant("kinesis", tenant_id).get_resource_policy(ResourceARN=str(arn)).get("Policy")  # type: ignore[no-any-return]


def _write_refused(destination: AwsDestination, action: str) -> bool:
    """Whether AWS refuses the write to a session tagged ``PROBE_TENANT``: the policy's condition, asked of AWS.

    Only an access-denied answer to the write is "refused"; a refused role assumption is the platform's fault
    (the trust policy admits the probe tag), and a throttle or internal error (inside EventBridge's 200 too)
    says nothing about the policy."""
    try:
        delivery.write(destination, verification(PROBE_TENANT, None))
    except delivery.EntryFailed as exc:
        if exc.code in _DENIED_CODES:
            return True
        raise _entry_refusal(exc, action) from exc
    except (BotoCoreError, ClientError) as exc:
        if _resource_denied(exc):
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
