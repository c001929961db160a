"""IAM evaluation as AWS documents it: wildcards per ARN segment, explicit Deny first, conditions, NotResource."""

from __future__ import annotations

import pytest

from infra.iam.policy import Request, Statement, arn_matches, evaluate, statements

TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/integration-platform-dev-events"


def policy(*raw: dict[str, object]) -> list[Statement]:
    return statements({"Version": "2012-10-17", "Statement": list(raw)})


@pytest.mark.parametrize(
    ("pattern", "arn", "matches"),
    [
        ("arn:aws:dynamodb:*:*:table/integration-platform-dev-*", TABLE, True),
        # A resource wildcard crosses "/": a table pattern also covers the table's streams and indexes.
        ("arn:aws:dynamodb:*:*:table/integration-platform-dev-*", TABLE + "/stream/2026-01-01T00:00:00.000", True),
        ("arn:aws:dynamodb:*:*:table/integration-platform-prod-*", TABLE, False),
        # A wildcard in the region segment stays in that segment.
        (
            "arn:aws:sqs:*:integration-platform-dev-runs",
            "arn:aws:sqs:us-east-1:123456789012:integration-platform-dev-runs",
            False,
        ),
        (
            "arn:aws:sqs:us-east-?:*:integration-platform-dev-*.fifo",
            "arn:aws:sqs:us-east-1:1:integration-platform-dev-o.fifo",
            True,
        ),
        (
            "arn:aws:sqs:us-east-?:*:integration-platform-dev-*.fifo",
            "arn:aws:sqs:us-east-1:1:integration-platform-dev-o",
            False,
        ),
        ("*", TABLE, True),
        # Resources are case-sensitive.
        ("arn:aws:dynamodb:*:*:table/Integration-platform-dev-*", TABLE, False),
    ],
)
def test_resource_wildcards(pattern: str, arn: str, matches: bool) -> None:
    assert arn_matches(pattern, arn) is matches


def test_actions_match_case_insensitively_and_with_wildcards() -> None:
    allowed = policy({"Effect": "Allow", "Action": ["DynamoDB:Get*"], "Resource": "*"})
    assert evaluate(allowed, Request("dynamodb:GetItem", TABLE)).allowed
    assert not evaluate(allowed, Request("dynamodb:PutItem", TABLE)).allowed


def test_an_explicit_deny_wins_over_any_allow() -> None:
    both = policy(
        {"Sid": "All", "Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"},
        {"Sid": "NoEvents", "Effect": "Deny", "Action": "dynamodb:DeleteItem", "Resource": TABLE},
    )
    decision = evaluate(both, Request("dynamodb:DeleteItem", TABLE))
    assert not decision.allowed and decision.statement is not None and decision.statement.sid == "NoEvents"
    granted = evaluate(both, Request("dynamodb:GetItem", TABLE))
    assert granted.allowed and granted.statement is not None and granted.statement.sid == "All"
    assert granted.pattern == "dynamodb:*"


def test_not_resource_and_not_action() -> None:
    others = policy({"Effect": "Allow", "NotAction": "iam:*", "NotResource": TABLE})
    assert evaluate(others, Request("sqs:SendMessage", "arn:aws:sqs:us-east-1:1:q")).allowed
    assert not evaluate(others, Request("sqs:SendMessage", TABLE)).allowed
    assert not evaluate(others, Request("iam:PassRole", "arn:aws:iam::1:role/r")).allowed


def test_pass_role_holds_only_for_the_service_its_condition_names() -> None:
    role = "arn:aws:iam::123456789012:role/integration-platform-dev-scheduler"
    passing = policy(
        {
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": "arn:aws:iam::*:role/integration-platform-dev-scheduler",
            "Condition": {"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}},
        }
    )
    assert evaluate(
        passing, Request("iam:PassRole", role, (("iam:PassedToService", "scheduler.amazonaws.com"),))
    ).allowed
    assert not evaluate(
        passing, Request("iam:PassRole", role, (("iam:PassedToService", "lambda.amazonaws.com"),))
    ).allowed
    assert not evaluate(passing, Request("iam:PassRole", role)).allowed  # the key is missing: the condition fails


def test_a_condition_the_check_cannot_evaluate_raises_instead_of_passing() -> None:
    odd = policy(
        {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": "1.2.3.4"}}}
    )
    with pytest.raises(ValueError, match="IpAddress"):
        evaluate(odd, Request("sqs:SendMessage", "*"))
