"""The IAM check on a template shaped as ``chalice package`` writes it, from the real policy and merge template.

``make iam`` runs the check on the real packaged template and the real flows; these tests show what it
decides on known calls: that removing one action from the policy fails it, naming the function, the action
and the resource, and that what it cannot place fails it too.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from infra.iam import check
from infra.iam.policy import Request
from infra.iam.policy import evaluate as evaluate_policy
from infra.iam.template import FUNCTION, load

ROOT = Path(__file__).resolve().parents[3]
PREFIX = "integration-platform-dev"
ACCOUNT = "123456789012"
EVENTS = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{PREFIX}-events"
WRITER_ROLE_USERS = ("ApiHandlerRole", "OutboundDispatchRole", "OutboundOrderedRole")


def policy(stage: str = "dev") -> dict[str, Any]:
    document: dict[str, Any] = json.loads((ROOT / ".chalice" / f"policy-{stage}.json").read_text())
    return document


def function(handler: str, role: str, **properties: Any) -> dict[str, Any]:
    variables = {"RESOURCE_PREFIX": PREFIX, **properties.pop("variables", {})}
    return {
        "Type": FUNCTION,
        "Properties": {
            "Handler": handler,
            "Role": {"Fn::GetAtt": [role, "Arn"]},
            "Environment": {"Variables": variables},
            **properties,
        },
    }


def packaged(document: dict[str, Any], *, patches: bool = True) -> dict[str, Any]:
    """The merge template's resources and Chalice's functions, each with its own role holding ``document``."""
    merge = json.loads((ROOT / "infra" / "template.json").read_text())
    resources = {name: r for name, r in merge["Resources"].items() if "Type" in r}
    for role in ("ApiHandlerRole", "CredentialRotationRole", "RunOperationsRole", *WRITER_ROLE_USERS[1:]):
        resources[role] = {
            "Type": "AWS::IAM::Role",
            "Properties": {"Policies": [{"PolicyName": role + "Policy", "PolicyDocument": copy.deepcopy(document)}]},
        }
    rotation_patch = merge["Resources"]["CredentialRotation"]["Properties"] if patches else {}
    resources["CredentialRotation"] = function("app.credential_rotation", "CredentialRotationRole", **rotation_patch)
    resources["APIHandler"] = function(
        "app.app",
        "ApiHandlerRole",
        variables={
            "ROTATION_FUNCTION_ARN": {"Fn::GetAtt": ["CredentialRotation", "Arn"]},
            "SCHEDULER_ROLE_ARN": {"Fn::GetAtt": ["SchedulerRole", "Arn"]},
        },
    )
    queue = {"Fn::Sub": f"arn:${{AWS::Partition}}:sqs:${{AWS::Region}}:${{AWS::AccountId}}:{PREFIX}-runs"}
    resources["RunOperations"] = function(
        "app.run_operations", "RunOperationsRole", Events={"Runs": {"Type": "SQS", "Properties": {"Queue": queue}}}
    )
    return {"Parameters": merge["Parameters"], "Resources": resources}


def write(tmp_path: Path, template: dict[str, Any], calls: list[dict[str, Any]]) -> Path:
    (tmp_path / "sam.json").write_text(json.dumps(template))
    (tmp_path / "calls").mkdir()
    (tmp_path / "calls" / "calls-1.jsonl").write_text("".join(json.dumps(c) + "\n" for c in calls))
    return tmp_path / "sam.json"


def calls(rotation_arn: str) -> list[dict[str, Any]]:
    def call(function: str, service: str, operation: str, **params: Any) -> dict[str, Any]:
        return {"function": function, "service": service, "operation": operation, "params": params}

    scheduler_role = f"arn:aws:iam::{ACCOUNT}:role/{PREFIX}-scheduler"
    target = {"Arn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:{PREFIX}-runs", "RoleArn": scheduler_role}
    return [
        call("api_handler", "dynamodb", "PutItem", TableName=f"{PREFIX}-events"),
        call(
            "api_handler",
            "secretsmanager",
            "RotateSecret",
            SecretId=f"{PREFIX}/acme/c1",
            RotationLambdaARN=rotation_arn,
        ),
        call("api_handler", "scheduler", "CreateSchedule", Name=f"{PREFIX}-s1", Target=target),
        call(
            "run_operations",
            "dynamodb",
            "TransactWriteItems",
            TransactItems=[{"Update": {"TableName": f"{PREFIX}-runs"}}],
        ),
        call("credential_rotation", "secretsmanager", "UpdateSecretVersionStage", SecretId=f"{PREFIX}/acme/c1"),
    ]


def evaluate(template: dict[str, Any], tmp_path: Path) -> check.Report:
    loaded = load(write(tmp_path, template, []), "us-east-1", ACCOUNT)
    return check.check(loaded, calls(loaded.functions["api_handler"].environment["ROTATION_FUNCTION_ARN"]))


def test_the_stage_policy_allows_every_call_and_the_scheduler_role_its_firing(tmp_path: Path) -> None:
    report = evaluate(packaged(policy()), tmp_path)
    assert report.denied == [] and report.problems == [] and report.idle == []
    granted = {(f.principal, f.request.action, f.request.resource) for f in report.allowed}
    assert (
        f"arn:aws:iam::{ACCOUNT}:role/{PREFIX}-scheduler",
        "sqs:SendMessage",
        f"arn:aws:sqs:us-east-1:{ACCOUNT}:{PREFIX}-runs",
    ) in granted
    assert ("run_operations", "sqs:ReceiveMessage", f"arn:aws:sqs:us-east-1:{ACCOUNT}:{PREFIX}-runs") in granted
    assert ("api_handler", "iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/{PREFIX}-scheduler") in granted


@pytest.mark.parametrize(
    ("action", "function", "resource"),
    [
        ("dynamodb:PutItem", "api_handler", EVENTS),
        (
            "lambda:InvokeFunction",
            "api_handler",
            f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{PREFIX}-credential_rotation",
        ),
        ("sqs:DeleteMessage", "run_operations", f"arn:aws:sqs:us-east-1:{ACCOUNT}:{PREFIX}-runs"),
        ("dynamodb:UpdateItem", "run_operations", f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{PREFIX}-runs"),
    ],
)
def test_removing_one_action_fails_the_check_naming_function_action_and_resource(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], action: str, function: str, resource: str
) -> None:
    document = policy()
    [statement] = [s for s in document["Statement"] if action in s["Action"]]
    statement["Action"].remove(action)
    template = write(
        tmp_path, packaged(document), calls(f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{PREFIX}-credential_rotation")
    )

    assert check.main([str(template), "--calls", str(tmp_path / "calls")]) == 1
    out = capsys.readouterr().out
    assert f"DENIED: {function} may not {action} on {resource}" in out
    assert "IAM check FAILED" in out


def test_a_rotation_function_named_by_cloudformation_is_outside_the_policy(tmp_path: Path) -> None:
    """Without its FunctionName (infra/template.json) the deployed function's name is generated, and the
    policy's ``function:<prefix>-credential_rotation`` does not cover the ARN the API passes to RotateSecret."""
    report = evaluate(packaged(policy(), patches=False), tmp_path)
    [denied] = report.denied
    assert (denied.principal, denied.request.action) == ("api_handler", "lambda:InvokeFunction")
    assert denied.request.resource.endswith(":function:STACK-CredentialRotation-GENERATED")


def test_unused_actions_are_listed_and_fail_unless_kept_for_a_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = evaluate(packaged(policy()), tmp_path)
    assert report.unused["xray:PutTraceSegments"] == check.KEPT["xray:PutTraceSegments"]
    assert report.unused["ses:SendEmail"] is None and report.failed
    assert "dynamodb:PutItem" not in report.unused
    check.print_report(report, tmp_path / "sam.json", 5)
    out = capsys.readouterr().out
    assert "  ses:SendEmail: NOT USED: remove it or cover it with a flow" in out
    assert f"  xray:PutTraceSegments: kept, {check.KEPT['xray:PutTraceSegments']}" in out


def test_calls_the_check_cannot_place_fail_it(tmp_path: Path) -> None:
    loaded = load(write(tmp_path, packaged(policy()), []), "us-east-1", ACCOUNT)
    odd: list[dict[str, Any]] = [
        {"function": None, "service": "sqs", "operation": "GetQueueUrl", "params": {"QueueName": f"{PREFIX}-runs"}},
        {"function": "nobody", "service": "sqs", "operation": "GetQueueUrl", "params": {"QueueName": f"{PREFIX}-runs"}},
        {"function": "api_handler", "service": "s3", "operation": "PutObject", "params": {}},
    ]
    report = check.check(loaded, odd)
    assert report.failed and len(report.problems) == 3
    assert any("outside any function" in p for p in report.problems)
    assert any("nobody, which the template does not deploy" in p for p in report.problems)
    assert any(p.startswith("api_handler: s3:PutObject") for p in report.problems)


def test_a_template_the_check_cannot_read_is_refused(tmp_path: Path) -> None:
    template = packaged(policy())
    template["Resources"]["ApiHandlerRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"][0][
        "Resource"
    ] = {"Fn::If": ["IsProd", "*", "arn:aws:dynamodb:*:*:table/x"]}
    with pytest.raises(ValueError, match="Fn::If"):
        load(write(tmp_path, template, []), "us-east-1", ACCOUNT)


def test_a_policy_attached_to_roles_is_part_of_each_role(tmp_path: Path) -> None:
    """The destination writer role is assumed under a grant of its own (``DestinationWriterAssume``), attached
    to the three functions that write to or check destinations; the other functions' roles do not get it."""
    loaded = load(write(tmp_path, packaged(policy()), []), "us-east-1", ACCOUNT)
    writer = f"arn:aws:iam::{ACCOUNT}:role/{PREFIX}-destination-writer"
    for action in ("sts:AssumeRole", "sts:TagSession"):
        request = Request(action, writer)
        assert evaluate_policy(loaded.functions["api_handler"].statements, request).allowed
        for role in WRITER_ROLE_USERS:
            assert evaluate_policy(loaded.roles[f"arn:aws:iam::{ACCOUNT}:role/STACK-{role}-GENERATED"], request).allowed
        assert not evaluate_policy(loaded.functions["run_operations"].statements, request).allowed
        assert not evaluate_policy(loaded.functions["api_handler"].statements, Request(action, writer + "x")).allowed


WRITER = f"arn:aws:iam::{ACCOUNT}:role/{PREFIX}-destination-writer"
WRITER_ACTIONS = ["sqs:SendMessage", "sqs:GetQueueAttributes", "sns:Publish", "events:PutEvents", "kinesis:PutRecord"]


def with_writer_role(template: dict[str, Any], actions: list[str]) -> dict[str, Any]:
    """The template with a ``DestinationWriterRole`` as the contract names it (what infra/template.json declares)."""
    statement = {"Effect": "Allow", "Action": actions, "Resource": "*"}
    template["Resources"]["DestinationWriterRole"] = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "RoleName": {"Fn::Sub": "${ResourcePrefix}-destination-writer"},
            "Policies": [
                {"PolicyName": "writes", "PolicyDocument": {"Version": "2012-10-17", "Statement": [statement]}}
            ],
        },
    }
    return template


def destination_calls() -> list[dict[str, Any]]:
    """A dispatch assuming the writer role for a tenant, then writing to the tenant's resources under it."""
    queue = "https://sqs.us-east-1.amazonaws.com/210987654321/their-queue"
    under_role: list[tuple[str, str, dict[str, Any]]] = [
        ("sqs", "SendMessage", {"QueueUrl": queue}),
        ("sqs", "GetQueueAttributes", {"QueueUrl": queue}),
        ("sns", "Publish", {"TopicArn": "arn:aws:sns:us-east-1:210987654321:t"}),
        ("events", "PutEvents", {"Entries": [{"EventBusName": "arn:aws:events:us-east-1:210987654321:event-bus/b"}]}),
        ("kinesis", "PutRecord", {"StreamARN": "arn:aws:kinesis:us-east-1:210987654321:stream/s"}),
    ]
    assume = {"RoleArn": WRITER, "Tags": "present", "RoleSessionName": "tenant-acme"}
    return [
        {"function": "api_handler", "service": "sts", "operation": "AssumeRole", "params": assume},
        *(
            {"function": "api_handler", "role": WRITER, "service": s, "operation": o, "params": p}
            for s, o, p in under_role
        ),
    ]


def may_assume_writer(document: dict[str, Any]) -> dict[str, Any]:
    """The stage policy plus the grant to assume the writer role (the template's ``DestinationWriterAssume``)."""
    statement = {"Sid": "AssumeWriter", "Effect": "Allow", "Action": ["sts:AssumeRole", "sts:TagSession"]}
    document["Statement"].append({**statement, "Resource": WRITER})
    return document


def test_writes_under_the_writer_role_are_the_roles_and_assuming_it_the_functions(tmp_path: Path) -> None:
    template = with_writer_role(packaged(may_assume_writer(policy())), WRITER_ACTIONS)
    loaded = load(write(tmp_path, template, []), "us-east-1", ACCOUNT)
    report = check.check(loaded, destination_calls())
    assert report.denied == [] and report.problems == []
    granted = {(f.principal, f.request.action) for f in report.allowed}
    assert {("api_handler", "sts:AssumeRole"), ("api_handler", "sts:TagSession")} <= granted
    assert {(WRITER, action) for action in WRITER_ACTIONS} <= granted
    assert not any(principal == "api_handler" and action in WRITER_ACTIONS for principal, action in granted)


def test_a_write_the_writer_role_lacks_is_denied_naming_the_role(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    actions = [a for a in WRITER_ACTIONS if a != "kinesis:PutRecord"]
    template = with_writer_role(packaged(may_assume_writer(policy())), actions)
    path = write(tmp_path, template, destination_calls())
    assert check.main([str(path), "--calls", str(tmp_path / "calls")]) == 1
    stream = "arn:aws:kinesis:us-east-1:210987654321:stream/s"
    assert f"DENIED: {WRITER} may not kinesis:PutRecord on {stream}" in capsys.readouterr().out


def test_the_stages_policies_differ_only_in_their_prefix() -> None:
    """``make iam`` proves the dev stage, which the flows run; this carries the proof to prod."""
    dev = json.dumps(policy("dev"))
    assert dev.replace("integration-platform-dev", "integration-platform-prod") == json.dumps(policy("prod"))
