"""The local AWS gets what the template deploys and moto needs besides: here, the destination writer role."""

from __future__ import annotations

import json

import boto3

from chalicelib.core.config import get_settings
from infra.local.provision import WRITER_ACTIONS, create_writer_role


def test_the_writer_role_is_created_where_the_settings_name_it(aws: None) -> None:
    """``provision`` made it (the suite's moto); making it again is a no-op that names the same role."""
    arn = get_settings().destination_role_arn
    assert create_writer_role(get_settings().resource_prefix) == arn
    iam = boto3.client("iam")
    name = arn.rsplit("/", 1)[1]
    role = iam.get_role(RoleName=name)["Role"]
    assert role["Arn"] == arn
    trust = role["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    assert trust["Statement"][0]["Action"] == ["sts:AssumeRole", "sts:TagSession"]
    policy = iam.get_role_policy(RoleName=name, PolicyName="destination-writes")["PolicyDocument"]
    policy = json.loads(policy) if isinstance(policy, str) else policy
    assert policy["Statement"][0]["Action"] == list(WRITER_ACTIONS)
