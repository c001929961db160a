"""A tenant's own queue, topic or stream on moto, granted to the platform's writer role as the docs say.

``bench.cost`` prices one inbound event to one subscription per destination type; each needs a resource
the tenant owns, whose policy lets the platform's writer role (``DESTINATION_ROLE_ARN``) write to it only
in a session tagged with this tenant (``aws:PrincipalTag/tenantId``), as docs/webhooks-outbound.md
("Destinations") tells a tenant to grant it. Where this code base cannot make a row (``supported``, or
``create`` raising ``LookupError``), the row is skipped with the reason rather than faked.
"""

from __future__ import annotations

import importlib.util
import json
from typing import Any

TYPES = ("webhook", "sqs", "sns", "eventbridge", "kinesis")
ACCOUNT = "123456789012"


def supported() -> str | None:
    """None when this code base writes to destinations, else why the rows are skipped."""
    if importlib.util.find_spec("chalicelib.destinations") is None:
        return "no chalicelib.destinations on this commit (issue 22's writers, dest-writers, not merged yet)"
    return None


def _grant(role: str, tenant: str, actions: list[str], resource: str) -> str:
    statement = {
        "Sid": "IntegrationPlatformWrites",
        "Effect": "Allow",
        "Principal": {"AWS": role},
        "Action": actions,
        "Resource": resource,
        "Condition": {"StringEquals": {"aws:PrincipalTag/tenantId": tenant}},
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def create(kind: str, tenant: str, client: Any) -> dict[str, Any]:
    """The subscription's ``destination`` of ``kind`` for ``tenant``, made and granted to the writer role.

    The ``eventbridge`` row aims at the platform's own bus (``GET /events/bus``: what a tenant who wants the
    platform events on the bus, as before issue 22, subscribes), which the function's own role writes.
    Raises ``LookupError`` with the reason when this code base cannot make one.
    """
    import boto3

    from chalicelib.core.config import get_settings

    settings = get_settings()
    region, role = settings.region, settings.destination_role_arn
    name = f"bench-{tenant}-{kind}"
    if kind == "eventbridge":
        bus = client.get("/events/bus")
        if bus.status != 200:
            raise LookupError(f"GET /events/bus answered {bus.status} (issue 22's bus surface not merged yet)")
        return {"type": "eventbridge", "eventBusArn": bus.json["eventBusArn"]}
    if kind == "sqs":
        sqs = boto3.client("sqs", region_name=region)
        arn = f"arn:aws:sqs:{region}:{ACCOUNT}:{name}"
        policy = _grant(role, tenant, ["sqs:SendMessage", "sqs:GetQueueAttributes"], arn)
        sqs.create_queue(QueueName=name, Attributes={"Policy": policy})
        return {"type": "sqs", "queueArn": arn}
    if kind == "sns":
        sns = boto3.client("sns", region_name=region)
        arn = sns.create_topic(Name=name)["TopicArn"]
        policy = _grant(role, tenant, ["sns:Publish", "sns:GetTopicAttributes"], arn)
        sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=policy)
        return {"type": "sns", "topicArn": arn}
    if kind == "kinesis":
        kinesis = boto3.client("kinesis", region_name=region)
        kinesis.create_stream(StreamName=name, StreamModeDetails={"StreamMode": "ON_DEMAND"})
        arn = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]
        kinesis.put_resource_policy(ResourceARN=arn, Policy=_grant(role, tenant, ["kinesis:PutRecord"], arn))
        return {"type": "kinesis", "streamArn": arn}
    raise ValueError(f"no tenant resource for destination type {kind!r}")
