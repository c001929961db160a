"""What AWS authorizes for each call: its IAM actions and resource ARNs (the Service Authorization Reference).

A recorded call (``infra.local.calls``) becomes one or more ``Request``s. Most
operations authorize the action of the same name on the resource they name,
but not all: a DynamoDB transaction authorizes each item's own action
(``PutItem``, ``UpdateItem``, ``DeleteItem``, ``ConditionCheckItem``,
``GetItem``) on that item's table, and there is no ``TransactWriteItems``
action; SQS batch calls authorize the single-message action; ``RotateSecret``
with a function also needs ``lambda:InvokeFunction`` on it; a schedule's
target role needs ``iam:PassRole`` with ``iam:PassedToService``; ``CreateSecret``
with tags also needs ``TagResource``, and ``AssumeRole`` with session tags
``sts:TagSession``; a queue URL of another account names that account's queue (an SQS
destination), as a topic, bus or stream ARN names its own; posting to a live socket
(``apigatewaymanagementapi``) is ``execute-api:ManageConnections`` on it. The event
destinations' access check reads each resource's policy (``GetQueueAttributes``,
``GetTopicAttributes``, ``DescribeEventBus``, ``GetResourcePolicy``), authorized on that resource. An operation
this module does not know raises ``UnknownCall``: the check then fails, naming it, instead of guessing.

The event source mappings' requests are derived from the template, as Lambda
documents them for an execution role: ``ReceiveMessage``, ``DeleteMessage``
and ``GetQueueAttributes`` on a queue; ``DescribeStream``, ``GetRecords``,
``GetShardIterator`` and ``ListStreams`` on a stream; ``SendMessage`` (or
``sns:Publish``) on an on-failure destination.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from infra.iam.policy import Request
from infra.iam.template import EventSource

# A Secrets Manager ARN ends in a random six-character suffix; calls by name are authorized on that ARN.
SECRET_SUFFIX = "AbCdEf"
TRANSACTION_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}
SQS_BATCH = {
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}
# Operations whose IAM action takes no resource ("*" in the Service Authorization Reference).
UNSCOPED = {
    ("secretsmanager", "ListSecrets"),
    ("secretsmanager", "GetRandomPassword"),
    ("ses", "GetSendQuota"),
    ("sns", "GetSMSAttributes"),
    ("scheduler", "ListSchedules"),
}


# The WebSocket API's id is chosen at deploy time (a stand-in here); its stage is Chalice's api_gateway_stage.
WEBSOCKET_API_ID = "websocketapi"
WEBSOCKET_STAGE = "api"
# API Gateway's management API: every operation is ManageConnections on the socket, by HTTP method.
CONNECTION_METHODS = {"PostToConnection": "POST", "GetConnection": "GET", "DeleteConnection": "DELETE"}


class UnknownCall(ValueError):
    """A call whose IAM action or resource the check does not know."""


@dataclass(frozen=True)
class Arns:
    region: str
    account: str

    def table(self, name: str, index: str | None = None) -> str:
        base = name if name.startswith("arn:") else f"arn:aws:dynamodb:{self.region}:{self.account}:table/{name}"
        return f"{base}/index/{index}" if index else base

    def queue(self, url_or_name: str) -> str:
        """A queue URL ends in ``/<account>/<name>``: another account's queue keeps its account."""
        parts = url_or_name.rstrip("/").split("/")
        account = parts[-2] if len(parts) >= 2 and parts[-2].isdigit() else self.account
        return f"arn:aws:sqs:{self.region}:{account}:{parts[-1]}"

    def secret(self, id_or_name: str) -> str:
        if id_or_name.startswith("arn:"):
            return id_or_name
        return f"arn:aws:secretsmanager:{self.region}:{self.account}:secret:{id_or_name}-{SECRET_SUFFIX}"

    def function(self, name: str) -> str:
        return name if name.startswith("arn:") else f"arn:aws:lambda:{self.region}:{self.account}:function:{name}"

    def bus(self, name: str) -> str:
        return name if name.startswith("arn:") else f"arn:aws:events:{self.region}:{self.account}:event-bus/{name}"

    def schedule(self, name: str, group: str) -> str:
        return f"arn:aws:scheduler:{self.region}:{self.account}:schedule/{group}/{name}"

    def connection(self, connection_id: str, method: str) -> str:
        """A live socket on the WebSocket API's stage, as ``execute-api:ManageConnections`` names it."""
        return (
            f"arn:aws:execute-api:{self.region}:{self.account}:{WEBSOCKET_API_ID}/{WEBSOCKET_STAGE}"
            f"/{method}/@connections/{connection_id}"
        )


def _address(source: str) -> str:
    """The e-mail address in ``Name <address>``, or the whole value."""
    found = re.search(r"<([^>]+)>", source)
    return found.group(1) if found else source


def requests_for(service: str, operation: str, params: dict[str, Any], arns: Arns) -> list[Request]:
    """The authorizations AWS makes for one call."""
    if (service, operation) in UNSCOPED:
        return [Request(f"{service}:{operation}", "*")]
    handler = _SERVICES.get(service)
    if handler is None:
        raise UnknownCall(f"{service}:{operation}: the IAM check does not know this service's resources")
    return handler(operation, params, arns)


def _dynamodb(operation: str, params: dict[str, Any], arns: Arns) -> list[Request]:
    if operation in ("TransactWriteItems", "TransactGetItems"):
        found = []
        for item in params.get("TransactItems", []):
            for kind, body in item.items():
                found.append(Request(f"dynamodb:{TRANSACTION_ACTIONS[kind]}", arns.table(body["TableName"])))
        return found
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [Request(f"dynamodb:{operation}", arns.table(name)) for name in params.get("RequestItems", {})]
    if "TableName" not in params:
        raise UnknownCall(f"dynamodb:{operation}: no TableName to authorize on")
    return [Request(f"dynamodb:{operation}", arns.table(params["TableName"], params.get("IndexName")))]


def _dynamodbstreams(operation: str, params: dict[str, Any], arns: Arns) -> list[Request]:
    """A stream read: authorized on the stream, which a shard iterator names before its first ``|``."""
    stream = params.get("StreamArn") or str(params.get("ShardIterator", "")).split("|", 1)[0]
    if operation not in ("DescribeStream", "GetShardIterator", "GetRecords") or not stream.startswith("arn:"):
        raise UnknownCall(f"dynamodbstreams:{operation}: no stream to authorize on")
    return [Request(f"dynamodb:{operation}", stream)]


def _sqs(operation: str, params: dict[str, Any], arns: Arns) -> list[Request]:
    target = params.get("QueueUrl") or params.get("QueueName")
    if not target:
        raise UnknownCall(f"sqs:{operation}: no queue to authorize on")
    return [Request(f"sqs:{SQS_BATCH.get(operation, operation)}", arns.queue(target))]


def _events(operation: str, params: dict[str, Any], arns: Arns) -> list[Request]:
    if operation == "DescribeEventBus":
        return [Request("events:DescribeEventBus", arns.bus(params.get("Name", "default")))]
    if operation != "PutEvents":
        raise UnknownCall(f"events:{operation}: the IAM check knows only PutEvents and DescribeEventBus")
    buses = {entry.get("EventBusName", "default") for entry in params.get("Entries", [])}
    return [Request("events:PutEvents", arns.bus(bus)) for bus in sorted(buses)]


def _secretsmanager(operation: str, params: dict[str, Any], arns: Arns) -> list[Request]:
    name = params.get("SecretId") or params.get("Name")
    if not name:
        raise UnknownCall(f"secretsmanager:{operation}: no secret to authorize on")
    secret = arns.secret(name)
    found = [Request(f"secretsmanager:{operation}", secret)]
    if operation == "CreateSecret" and params.get("Tags"):
        found.append(Request("secretsmanager:TagResource", secret))
    if operation == "RotateSecret" and params.get("RotationLambdaARN"):
        found.append(Request("lambda:InvokeFunction", arns.function(params["RotationLambdaARN"])))
    return found


def _lambda(operation: str, params: dict[str, Any], arns: Arns) -> list[Request]:
    if operation not in ("Invoke", "InvokeAsync"):
        raise UnknownCall(f"lambda:{operation}: the IAM check knows only Invoke")
    return [Request("lambda:InvokeFunction", arns.function(params["FunctionName"]))]


def _scheduler(operation: str, params: dict[str, Any], arns: Arns) -> list[Request]:
    if "Name" not in params:
        raise UnknownCall(f"scheduler:{operation}: no schedule to authorize on")
    found = [Request(f"scheduler:{operation}", arns.schedule(params["Name"], params.get("GroupName", "default")))]
    role = params.get("Target", {}).get("RoleArn")
    if operation in ("CreateSchedule", "UpdateSchedule") and role:
        found.append(Request("iam:PassRole", role, (("iam:PassedToService", "scheduler.amazonaws.com"),)))
    return found


def _ses(operation: str, params: dict[str, Any], arns: Arns) -> list[Request]:
    if operation not in ("SendEmail", "SendRawEmail"):
        raise UnknownCall(f"ses:{operation}: the IAM check does not know its resources")
    identity = _address(params.get("Source", ""))  # a verified address; a verified domain also matches identity/*
    found = [Request(f"ses:{operation}", f"arn:aws:ses:{arns.region}:{arns.account}:identity/{identity}")]
    if params.get("ConfigurationSetName"):
        configuration = f"arn:aws:ses:{arns.region}:{arns.account}:configuration-set/{params['ConfigurationSetName']}"
        found.append(Request(f"ses:{operation}", configuration))
    return found


def _sns(operation: str, params: dict[str, Any], arns: Arns) -> list[Request]:
    if operation == "GetTopicAttributes" and params.get("TopicArn"):
        return [Request("sns:GetTopicAttributes", params["TopicArn"])]
    if operation != "Publish":
        raise UnknownCall(f"sns:{operation}: the IAM check does not know its resources")
    target = params.get("TopicArn") or params.get("TargetArn")
    return [Request("sns:Publish", target or "*")]  # an SMS to a phone number authorizes on "*"


def _sts(operation: str, params: dict[str, Any], arns: Arns) -> list[Request]:
    if operation != "AssumeRole":
        raise UnknownCall(f"sts:{operation}: the IAM check knows only AssumeRole")
    found = [Request("sts:AssumeRole", params["RoleArn"])]
    if params.get("Tags"):
        found.append(Request("sts:TagSession", params["RoleArn"]))  # session tags need their own permission
    return found


def _kinesis(operation: str, params: dict[str, Any], arns: Arns) -> list[Request]:
    if operation == "GetResourcePolicy" and params.get("ResourceARN"):
        return [Request("kinesis:GetResourcePolicy", params["ResourceARN"])]
    if operation not in ("PutRecord", "PutRecords"):
        raise UnknownCall(f"kinesis:{operation}: the IAM check knows only PutRecord(s) and GetResourcePolicy")
    if params.get("StreamARN"):
        return [Request(f"kinesis:{operation}", params["StreamARN"])]
    if not params.get("StreamName"):
        raise UnknownCall(f"kinesis:{operation}: no stream to authorize on")
    stream = f"arn:aws:kinesis:{arns.region}:{arns.account}:stream/{params['StreamName']}"
    return [Request(f"kinesis:{operation}", stream)]


def _connections(operation: str, params: dict[str, Any], arns: Arns) -> list[Request]:
    method = CONNECTION_METHODS.get(operation)
    if method is None or "ConnectionId" not in params:
        raise UnknownCall(f"execute-api:{operation}: the IAM check does not know its resources")
    return [Request("execute-api:ManageConnections", arns.connection(params["ConnectionId"], method))]


_SERVICES = {
    "dynamodb": _dynamodb,
    "dynamodbstreams": _dynamodbstreams,
    "sqs": _sqs,
    "events": _events,
    "secretsmanager": _secretsmanager,
    "lambda": _lambda,
    "scheduler": _scheduler,
    "ses": _ses,
    "sns": _sns,
    "sts": _sts,
    "kinesis": _kinesis,
    "apigatewaymanagementapi": _connections,
}


def mapping_requests(source: EventSource) -> list[Request]:
    """What Lambda's event source mapping authorizes under the function's role for ``source``."""
    actions: tuple[str, ...]
    if source.kind == "SQS":
        actions = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
    else:
        actions = (
            "dynamodb:DescribeStream",
            "dynamodb:GetRecords",
            "dynamodb:GetShardIterator",
            "dynamodb:ListStreams",
        )
    found = [Request(action, source.arn) for action in actions]
    if source.on_failure:
        service = source.on_failure.split(":")[2]
        found.append(Request("sqs:SendMessage" if service == "sqs" else "sns:Publish", source.on_failure))
    return found
