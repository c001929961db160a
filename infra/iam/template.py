"""The packaged template (``build/sam.json``) as the check needs it: each function's role, policy and event sources.

Everything comes from the template ``make package`` writes, never from
``.chalice/policy-<stage>.json`` directly: Chalice copies the stage's policy
into one role per function, and the merge template may add or patch roles.
Intrinsic functions are resolved for one account and region, as CloudFormation
would resolve them on deploy: ``Ref`` (parameters, pseudo parameters and the
resources the policies name), ``Fn::Sub``, ``Fn::GetAtt`` and ``Fn::Join``.
Anything else raises, naming it, so a policy the check cannot read fails the
check instead of passing it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.iam.policy import Statement, statements

FUNCTION = "AWS::Serverless::Function"
# A deployed stack's name is chosen at deploy time; generated physical names use this stand-in.
STACK_NAME = "STACK"
# The label part of a DynamoDB stream ARN is a timestamp AWS picks when the stream is enabled.
STREAM_LABEL = "2026-01-01T00:00:00.000"


@dataclass(frozen=True)
class EventSource:
    """One event source mapping: what Lambda reads under the function's role, and where failures go."""

    kind: str  # "SQS" or "DynamoDB"
    arn: str
    on_failure: str | None = None


@dataclass
class Function:
    """One deployed function: its Chalice name, its role's statements, its event sources and its environment."""

    name: str
    statements: list[Statement]
    sources: list[EventSource] = field(default_factory=list)
    environment: dict[str, str] = field(default_factory=dict)


@dataclass
class Template:
    functions: dict[str, Function]
    roles: dict[str, list[Statement]]  # role ARN -> its statements, for every role (the scheduler's too)
    region: str
    account: str


class Resolver:
    """Resolves the template's intrinsic functions for ``region`` and ``account``."""

    def __init__(self, template: dict[str, Any], region: str, account: str, parameters: dict[str, str]) -> None:
        self.resources: dict[str, Any] = template.get("Resources", {})
        self.region = region
        self.account = account
        defaults = {
            name: str(spec["Default"]) for name, spec in template.get("Parameters", {}).items() if "Default" in spec
        }
        self.parameters = {**defaults, **parameters}

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, argument), *_ = value.items()
            if key == "Ref":
                return self.ref(argument)
            if key == "Fn::Sub":
                return self.sub(argument)
            if key == "Fn::GetAtt":
                names = argument.split(".", 1) if isinstance(argument, str) else argument
                return self.get_att(names[0], names[1])
            if key == "Fn::Join":
                separator, items = argument
                return separator.join(str(item) for item in self.resolve(items))
            if key.startswith("Fn::"):
                raise ValueError(f"the IAM check cannot resolve {key}")
        return {key: self.resolve(item) for key, item in value.items()}

    def ref(self, name: str) -> str:
        pseudo = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": STACK_NAME,
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        resource = self._resource(name)
        kind = resource["Type"]
        if kind == "AWS::SQS::Queue":
            return f"https://sqs.{self.region}.amazonaws.com/{self.account}/{self.physical_name(name)}"
        return self.physical_name(name)

    def sub(self, argument: str | list[Any]) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], argument[1])
        local = {key: str(self.resolve(item)) for key, item in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in local:
                return local[name]
            if "." in name:
                resource, attribute = name.split(".", 1)
                return str(self.get_att(resource, attribute))
            return self.ref(name)

        return re.sub(r"\$\{([^}!]+)\}", replace, text)

    def physical_name(self, logical_id: str) -> str:
        """The name the resource gets: its own name property, else one CloudFormation generates."""
        resource = self._resource(logical_id)
        properties = resource.get("Properties", {})
        for key in ("QueueName", "TableName", "RoleName", "FunctionName", "TopicName", "Name"):
            if key in properties:
                return str(self.resolve(properties[key]))
        return f"{STACK_NAME}-{logical_id}-GENERATED"

    def get_att(self, logical_id: str, attribute: str) -> str:
        resource = self._resource(logical_id)
        kind, name = resource["Type"], self.physical_name(logical_id)
        region, account = self.region, self.account
        arns = {
            ("AWS::SQS::Queue", "Arn"): f"arn:aws:sqs:{region}:{account}:{name}",
            ("AWS::SQS::Queue", "QueueName"): name,
            ("AWS::DynamoDB::Table", "Arn"): f"arn:aws:dynamodb:{region}:{account}:table/{name}",
            ("AWS::DynamoDB::Table", "StreamArn"): (
                f"arn:aws:dynamodb:{region}:{account}:table/{name}/stream/{STREAM_LABEL}"
            ),
            ("AWS::IAM::Role", "Arn"): f"arn:aws:iam::{account}:role/{name}",
            (FUNCTION, "Arn"): f"arn:aws:lambda:{region}:{account}:function:{name}",
            ("AWS::Lambda::Function", "Arn"): f"arn:aws:lambda:{region}:{account}:function:{name}",
            ("AWS::SNS::Topic", "TopicArn"): f"arn:aws:sns:{region}:{account}:{name}",
            ("AWS::Events::EventBus", "Arn"): f"arn:aws:events:{region}:{account}:event-bus/{name}",
        }
        if (kind, attribute) not in arns:
            raise ValueError(f"the IAM check cannot resolve Fn::GetAtt {logical_id}.{attribute} ({kind})")
        return arns[(kind, attribute)]

    def _resource(self, logical_id: str) -> dict[str, Any]:
        if logical_id not in self.resources:
            raise ValueError(f"the template has no resource or parameter {logical_id}")
        return self.resources[logical_id]  # type: ignore[no-any-return]


def function_name(handler: str) -> str:
    """The Chalice name of a function from its handler: ``app.app`` is the REST API, ``api_handler``."""
    attribute = handler.rsplit(".", 1)[-1]
    return "api_handler" if attribute == "app" else attribute


def load(path: Path, region: str, account: str) -> Template:
    """Read the packaged template; ``ResourcePrefix`` comes from the functions' own ``RESOURCE_PREFIX``."""
    raw: dict[str, Any] = json.loads(path.read_text())
    resources = raw.get("Resources", {})
    prefixes = {
        variables["RESOURCE_PREFIX"]
        for resource in resources.values()
        if resource.get("Type") == FUNCTION
        and "RESOURCE_PREFIX" in (variables := resource["Properties"].get("Environment", {}).get("Variables", {}))
    }
    if len(prefixes) != 1:
        raise ValueError(f"the functions disagree on RESOURCE_PREFIX: {sorted(prefixes)}")
    resolver = Resolver(raw, region, account, {"ResourcePrefix": prefixes.pop()})
    roles: dict[str, list[Statement]] = {}
    for logical_id, resource in resources.items():
        if resource.get("Type") == "AWS::IAM::Role":
            policies = resolver.resolve(resource["Properties"].get("Policies", []))
            if resource["Properties"].get("ManagedPolicyArns"):
                raise ValueError(f"{logical_id} has managed policies, which the IAM check cannot read")
            arn = resolver.get_att(logical_id, "Arn")
            roles[arn] = [s for policy in policies for s in statements(policy["PolicyDocument"])]
    for resource in resources.values():  # a policy of its own, attached to some roles (the writer role's grant)
        if resource.get("Type") == "AWS::IAM::Policy":
            attached = statements(resolver.resolve(resource["Properties"]["PolicyDocument"]))
            for role_name in resolver.resolve(resource["Properties"].get("Roles", [])):
                roles[f"arn:aws:iam::{account}:role/{role_name}"].extend(attached)
    functions: dict[str, Function] = {}
    for logical_id, resource in resources.items():
        if resource.get("Type") != FUNCTION:
            continue
        properties = resource["Properties"]
        role = resolver.resolve(properties.get("Role"))
        if role not in roles:
            raise ValueError(f"{logical_id}'s role {role!r} is not a role of the template")
        name = function_name(properties["Handler"])
        events = resolver.resolve(properties.get("Events", {}))
        functions[name] = Function(
            name=name,
            statements=roles[role],
            sources=[source for event in events.values() if (source := _source(event))],
            environment=_environment(resolver, properties.get("Environment", {}).get("Variables", {})),
        )
    return Template(functions=functions, roles=roles, region=region, account=account)


def _environment(resolver: Resolver, variables: dict[str, Any]) -> dict[str, str]:
    """The variables the check can resolve; the others (a condition's choice, say) name no resource it needs."""
    resolved = {}
    for name, value in variables.items():
        try:
            resolved[name] = str(resolver.resolve(value))
        except ValueError:
            continue
    return resolved


def _source(event: dict[str, Any]) -> EventSource | None:
    kind, properties = event["Type"], event.get("Properties", {})
    destination = properties.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
    if kind == "SQS":
        return EventSource("SQS", properties["Queue"], destination)
    if kind == "DynamoDB":
        return EventSource("DynamoDB", properties["Stream"], destination)
    return None  # schedules and the API are invoked by their service, with no call under the function's role
