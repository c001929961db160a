"""A tenant's own queue, topic, bus or stream on moto, granted to the platform's writer role as the docs say.

``bench.cost`` prices one inbound event to one subscription per destination type; each needs a resource
the tenant owns, whose policy lets the platform's writer role (``DESTINATION_ROLE_ARN``) write to it only
in a session tagged with this tenant (``aws:PrincipalTag/tenantId``), as docs/webhooks-outbound.md
("Destinations") tells a tenant to grant it. ``supported`` says why the rows cannot run on a branch
without destinations, so they are skipped with a reason rather than faked.
"""

from __future__ import annotations

import importlib.util
import json
import os
from typing import Any

TYPES = ("webhook", "sqs", "sns", "eventbridge", "kinesis")
ACCOUNT = "123456789012"


def supported() -> str | None:
    """None when this code base has event destinations, else why the rows are skipped."""
    if importlib.util.find_spec("chalicelib.destinations") is None:
        return "no chalicelib.destinations on this commit (issue 22: dest-writers and dest-subs not merged yet)"
    if not os.environ.get("DESTINATION_ROLE_ARN"):
        return "DESTINATION_ROLE_ARN is not set after provisioning, so no writer role to grant"
    return None


def _grant(tenant: str, actions: list[str], resource: str) -> str:
    role = os.environ["DESTINATION_ROLE_ARN"]
    statement = {
        "Sid": "IntegrationPlatformWriter",
        "Effect": "Allow",
        "Principal": {"AWS": role},
        "Action": actions,
        "Resource": resource,
        "Condition": {"StringEquals": {"aws:PrincipalTag/tenantId": tenant}},
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def create(kind: str, tenant: str, region: str) -> dict[str, Any]:
    """The tenant's resource of ``kind``, with the platform granted; the subscription's ``destination``."""
    import boto3

    name = f"bench-{tenant}-{kind}"
    if kind == "sqs":
        sqs = boto3.client("sqs", region_name=region)
        arn = f"arn:aws:sqs:{region}:{ACCOUNT}:{name}"
        sqs.create_queue(QueueName=name, Attributes={"Policy": _grant(tenant, ["sqs:SendMessage"], arn)})
        return {"type": "sqs", "queueArn": arn}
    if kind == "sns":
        sns = boto3.client("sns", region_name=region)
        arn = sns.create_topic(Name=name)["TopicArn"]
        policy = _grant(tenant, ["sns:Publish"], arn)
        sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=policy)
        return {"type": "sns", "topicArn": arn}
    if kind == "eventbridge":
        events = boto3.client("events", region_name=region)
        arn = events.create_event_bus(Name=name)["EventBusArn"]
        events.put_permission(EventBusName=name, Policy=_grant(tenant, ["events:PutEvents"], arn))
        return {"type": "eventbridge", "eventBusArn": arn}
    if kind == "kinesis":
        kinesis = boto3.client("kinesis", region_name=region)
        kinesis.create_stream(StreamName=name, StreamModeDetails={"StreamMode": "ON_DEMAND"})
        arn = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]
        actions = ["kinesis:PutRecord", "kinesis:PutRecords", "kinesis:DescribeStreamSummary"]
        kinesis.put_resource_policy(ResourceARN=arn, Policy=_grant(tenant, actions, arn))
        return {"type": "kinesis", "streamArn": arn}
    raise ValueError(f"no tenant resource for destination type {kind!r}")
