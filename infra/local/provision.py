"""Create the resources of ``infra/template.json`` in the local AWS (moto).

The template is deployed as a CloudFormation stack against the moto endpoint,
so the local runtime and the tests run on exactly the tables and queues that
a deployed stage gets. Only the resources Chalice does not generate are in the
merge template, so nothing Lambda- or API-Gateway-shaped is sent to moto.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3

TEMPLATE = Path(__file__).resolve().parents[1] / "template.json"
STACK_NAME = "integration-platform-local"
LOCAL_TYPES = ("AWS::DynamoDB::", "AWS::SQS::", "AWS::Events::")
# moto's CloudFormation cannot create these, and moto enforces no resource policies anyway.
NOT_LOCAL = ("AWS::SQS::QueuePolicy",)


def local_template() -> dict[str, Any]:
    """The merge template's data resources (DynamoDB, SQS, the EventBridge bus and rule) with their parameters.

    Entries without a ``Type`` only patch what Chalice generates (SQS event sources, the API), and
    parameters without a default (the JWT issuer) belong to a deployed stage, not to moto.
    """
    template = json.loads(TEMPLATE.read_text())
    resources = {
        name: resource
        for name, resource in template["Resources"].items()
        if resource.get("Type", "").startswith(LOCAL_TYPES) and resource["Type"] not in NOT_LOCAL
    }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {name: p for name, p in template.get("Parameters", {}).items() if "Default" in p},
        "Resources": resources,
    }


def provision(resource_prefix: str, visibility_timeout: int = 30, region: str = "us-east-1") -> list[str]:
    """Deploy the stack and return the logical ids it created."""
    cloudformation = boto3.client("cloudformation", region_name=region)
    cloudformation.create_stack(
        StackName=STACK_NAME,
        TemplateBody=json.dumps(local_template()),
        Parameters=[
            {"ParameterKey": "ResourcePrefix", "ParameterValue": resource_prefix},
            {"ParameterKey": "QueueVisibilityTimeout", "ParameterValue": str(visibility_timeout)},
        ],
    )
    resources = cloudformation.describe_stack_resources(StackName=STACK_NAME)["StackResources"]
    create_writer_role(resource_prefix, region)
    return sorted(r["LogicalResourceId"] for r in resources)


# What the template's DestinationWriterRole allows: the four writes, and reading the policies that grant them.
WRITER_ACTIONS = (
    "sqs:SendMessage",
    "sns:Publish",
    "events:PutEvents",
    "kinesis:PutRecord",
    "sqs:GetQueueAttributes",
    "sns:GetTopicAttributes",
    "events:DescribeEventBus",
    "kinesis:GetResourcePolicy",
)


def create_writer_role(resource_prefix: str, region: str = "us-east-1") -> str:
    """The role event destinations are written under (``DESTINATION_ROLE_ARN``), as the template declares it.

    The template's own role trusts the dispatching functions' roles; moto has no functions, so this one trusts
    the account. moto's STS assumes any ARN, but its IAM enforcement (``INITIAL_NO_AUTH_ACTION_COUNT``) authorizes
    an assumed session's calls by the role's own policy, which needs the role.
    """
    from chalicelib.core.config import local_destination_role_arn

    iam = boto3.client("iam", region_name=region)
    arn = local_destination_role_arn(resource_prefix)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": arn.split(":role/")[0] + ":root"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
            }
        ],
    }
    writes = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": list(WRITER_ACTIONS), "Resource": "*"}],
    }
    name = arn.rsplit("/", 1)[1]
    try:
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    except iam.exceptions.EntityAlreadyExistsException:
        return arn
    iam.put_role_policy(RoleName=name, PolicyName="destination-writes", PolicyDocument=json.dumps(writes))
    return arn
