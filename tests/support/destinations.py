"""A tenant's own SQS queue, SNS topic, EventBridge bus and Kinesis stream, granted to the platform as the docs say.

Each grant is the resource policy docs/webhooks-outbound.md "Destinations" gives to paste: the platform's writer
role may write, only in a session tagged with this tenant (``aws:PrincipalTag/tenantId``). What arrived is read
with plain boto3 clients, as the tenant's consumer would: an SNS topic and an EventBridge bus deliver to a queue of
the tenant's, which is read. ``Clients`` reach the embedded AWS the caller runs on (in-process moto, or the moto
server of a local runtime). Moto does not evaluate resource policies on writes, so a write is refused here by
taking the resource away (``remove``), and allowed again by making it anew (``restore``), under the same ARN.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3

from chalicelib.core.config import get_settings, local_destination_role_arn
from chalicelib.destinations.access import VERIFICATION_TYPE

WRITE_ACTIONS = {"sqs": "sqs:SendMessage", "sns": "sns:Publish", "eventbridge": "events:PutEvents"}
WRITE_ACTIONS["kinesis"] = "kinesis:PutRecord"
TYPES = tuple(WRITE_ACTIONS)
LOCAL_RUNTIME_PREFIX = "integration-platform-dev"  # the local runtime's, whatever the caller's (infra/local/runtime.py)


@dataclass(frozen=True)
class Clients:
    """Plain boto3 clients, not the platform's (no fault injection, no role session): the tenant's own."""

    endpoint_url: str | None = None
    region: str = "us-east-1"

    def __call__(self, service: str) -> Any:
        return boto3.client(
            service,  # type: ignore[call-overload]
            region_name=self.region,
            endpoint_url=self.endpoint_url,
            aws_access_key_id="tenant",
            aws_secret_access_key="tenant",
        )


def runtime_role(env: Mapping[str, str]) -> str:
    """The writer role a local runtime with environment ``env`` writes under (``make iam`` names the template's)."""
    return env.get("DESTINATION_ROLE_ARN") or local_destination_role_arn(LOCAL_RUNTIME_PREFIX)


def in_process() -> Clients:
    settings = get_settings()
    return Clients(settings.aws_endpoint_url or None, settings.region)


def grant(tenant_id: str, action: str, resource: str, role_arn: str) -> dict[str, Any]:
    """The statement a tenant pastes: the writer role may ``action`` on ``resource`` for this tenant's sessions."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "IntegrationPlatformWrites",
                "Effect": "Allow",
                "Principal": {"AWS": role_arn},
                "Action": action,
                "Resource": resource,
                "Condition": {"StringEquals": {"aws:PrincipalTag/tenantId": tenant_id}},
            }
        ],
    }


@dataclass(frozen=True)
class Arrival:
    """One message as the tenant's consumer reads it: the body, what travelled beside it, its group or key."""

    body: Any
    attributes: dict[str, str]
    group: str | None = None


@dataclass
class TenantResource:
    """One destination of the tenant's: ``kind`` is the destination type; ``fifo`` a FIFO queue or topic."""

    kind: str
    tenant_id: str
    clients: Clients
    role_arn: str
    fifo: bool = False
    granted: bool = True
    name: str = field(default_factory=lambda: f"tenant-{secrets.token_hex(4)}")
    arn: str = ""
    inbox_url: str = ""  # the queue an SNS topic or EventBridge bus delivers to (the SQS queue itself for sqs)
    _shard_iterator: str | None = None

    def __post_init__(self) -> None:
        self.make()

    @property
    def destination(self) -> dict[str, str]:
        field_name = {"sqs": "queueArn", "sns": "topicArn", "eventbridge": "eventBusArn", "kinesis": "streamArn"}
        return {"type": self.kind, field_name[self.kind]: self.arn}

    def make(self) -> None:
        suffix = ".fifo" if self.fifo else ""
        if self.kind in ("sqs", "sns", "eventbridge"):
            self.inbox_url, inbox_arn = self._queue(
                (self.name if self.kind == "sqs" else f"{self.name}-inbox") + suffix
            )
        if self.kind == "sqs":
            self.arn = inbox_arn
            self._grant_on(
                "sqs",
                lambda policy: self.clients("sqs").set_queue_attributes(
                    QueueUrl=self.inbox_url, Attributes={"Policy": policy}
                ),
            )
        elif self.kind == "sns":
            sns = self.clients("sns")
            attributes = {"FifoTopic": "true", "ContentBasedDeduplication": "false"} if self.fifo else {}
            self.arn = sns.create_topic(Name=self.name + suffix, Attributes=attributes)["TopicArn"]
            sns.subscribe(
                TopicArn=self.arn, Protocol="sqs", Endpoint=inbox_arn, Attributes={"RawMessageDelivery": "true"}
            )
            self._grant_on(
                "sns",
                lambda policy: sns.set_topic_attributes(
                    TopicArn=self.arn, AttributeName="Policy", AttributeValue=policy
                ),
            )
        elif self.kind == "eventbridge":
            events = self.clients("events")
            self.arn = events.create_event_bus(Name=self.name)["EventBusArn"]
            events.put_rule(Name="all", EventBusName=self.name, EventPattern=json.dumps({"source": [{"prefix": ""}]}))
            events.put_targets(Rule="all", EventBusName=self.name, Targets=[{"Id": "inbox", "Arn": inbox_arn}])
            self._grant_on("eventbridge", lambda policy: events.put_permission(EventBusName=self.name, Policy=policy))
        else:
            kinesis = self.clients("kinesis")
            kinesis.create_stream(StreamName=self.name, ShardCount=1)
            self.arn = kinesis.describe_stream_summary(StreamName=self.name)["StreamDescriptionSummary"]["StreamARN"]
            self._shard_iterator = None
            self._grant_on("kinesis", lambda policy: kinesis.put_resource_policy(ResourceARN=self.arn, Policy=policy))

    def _queue(self, name: str) -> tuple[str, str]:
        sqs = self.clients("sqs")
        attributes = {"FifoQueue": "true"} if name.endswith(".fifo") else {}
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url, arn

    def _grant_on(self, kind: str, put: Any) -> None:
        if self.granted:
            put(json.dumps(grant(self.tenant_id, WRITE_ACTIONS[kind], self.arn, self.role_arn)))

    def remove(self) -> None:
        """The tenant deletes the resource: the platform's next writes there are refused."""
        if self.kind == "sqs":
            self.clients("sqs").delete_queue(QueueUrl=self.inbox_url)
        elif self.kind == "sns":
            self.clients("sns").delete_topic(TopicArn=self.arn)
        elif self.kind == "eventbridge":
            events = self.clients("events")
            events.remove_targets(Rule="all", EventBusName=self.name, Ids=["inbox"])
            events.delete_rule(Name="all", EventBusName=self.name)
            events.delete_event_bus(Name=self.name)
        else:
            self.clients("kinesis").delete_stream(StreamName=self.name, EnforceConsumerDeletion=True)

    def restore(self) -> None:
        """The tenant makes it again, under the same ARN and with the same grant."""
        before = self.arn
        self.make()
        assert self.arn == before

    def arrivals(self) -> list[Arrival]:
        """What reached the resource since the last call, oldest first."""
        if self.kind == "kinesis":
            return self._records()
        sqs = self.clients("sqs")
        found: list[Arrival] = []
        while batch := sqs.receive_message(
            QueueUrl=self.inbox_url,
            MaxNumberOfMessages=10,
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
        ).get("Messages", []):
            for message in batch:
                attributes = {k: v["StringValue"] for k, v in message.get("MessageAttributes", {}).items()}
                body = json.loads(message["Body"])
                if self.kind == "eventbridge":  # the whole EventBridge event; what was sent is its detail
                    attributes = {"detail-type": body["detail-type"], "source": body["source"], "time": body["time"]}
                    body = body["detail"]
                sqs.delete_message(QueueUrl=self.inbox_url, ReceiptHandle=message["ReceiptHandle"])
                if not verification(body):
                    found.append(Arrival(body, attributes, message.get("Attributes", {}).get("MessageGroupId")))
        return found

    def _records(self) -> list[Arrival]:
        kinesis = self.clients("kinesis")
        if self._shard_iterator is None:
            [shard] = kinesis.list_shards(StreamName=self.name)["Shards"]
            self._shard_iterator = kinesis.get_shard_iterator(
                StreamName=self.name, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
        response = kinesis.get_records(ShardIterator=self._shard_iterator)
        self._shard_iterator = response["NextShardIterator"]
        records = [Arrival(json.loads(r["Data"]), {}, r["PartitionKey"]) for r in response["Records"]]
        return [record for record in records if not verification(record.body)]


def verification(body: Any) -> bool:
    """The platform's write at subscription create or update, which a consumer skips by its type."""
    return isinstance(body, dict) and body.get("type") == VERIFICATION_TYPE
