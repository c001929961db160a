"""Where a subscription delivers: typed helpers for the five destination shapes, and how to read one back.

``Client.create_subscription({"eventTypes": ["*"], "destination": destinations.sqs(arn)})``;
a webhook may still be given as ``endpointUrl``, which the platform reads as
``destinations.webhook(url)``. An AWS destination is named by its ARN, in the
platform's region; the platform checks it can write there when the
subscription is created or changed (a 422 that names the missing permission).
``GET /events/bus`` (``Client.get_event_bus``) names the platform's own bus.
"""

from __future__ import annotations

from collections.abc import Mapping

from integration_platform import models

# The field of each type's wire shape that names where it delivers.
TARGET_FIELDS = {
    "webhook": "url",
    "sqs": "queueArn",
    "sns": "topicArn",
    "eventbridge": "eventBusArn",
    "kinesis": "streamArn",
}


def webhook(url: str) -> models.WebhookDestination:
    """An HTTPS POST, signed with the subscription's secret (Standard Webhooks)."""
    return {"type": "webhook", "url": url}


def sqs(queue_arn: str) -> models.SqsDestination:
    """``SendMessage`` to a standard or FIFO queue (``arn:aws:sqs:<region>:<account>:<name>``)."""
    return {"type": "sqs", "queueArn": queue_arn}


def sns(topic_arn: str) -> models.SnsDestination:
    """``Publish`` to a standard or FIFO topic (``arn:aws:sns:<region>:<account>:<name>``)."""
    return {"type": "sns", "topicArn": topic_arn}


def eventbridge(event_bus_arn: str) -> models.EventBridgeDestination:
    """``PutEvents`` to a bus (``arn:aws:events:<region>:<account>:event-bus/<name>``), the platform's included."""
    return {"type": "eventbridge", "eventBusArn": event_bus_arn}


def kinesis(stream_arn: str) -> models.KinesisDestination:
    """``PutRecord`` to a data stream (``arn:aws:kinesis:<region>:<account>:stream/<name>``)."""
    return {"type": "kinesis", "streamArn": stream_arn}


def of(subscription: models.Subscription) -> models.Destination:
    """A subscription's destination; a platform from before destinations names only ``endpointUrl``."""
    return subscription.get("destination") or webhook(subscription.get("endpointUrl") or "")


def target(destination: Mapping[str, object]) -> str:
    """The URL or ARN it delivers to."""
    value = destination.get(TARGET_FIELDS.get(kind(destination), ""))
    return value if isinstance(value, str) else ""


def kind(destination: Mapping[str, object]) -> str:
    """Its ``type``; a webhook's may be left out of a request, as it is the default."""
    return str(destination.get("type", "webhook"))


def describe(destination: Mapping[str, object]) -> str:
    """``sqs arn:aws:sqs:...``: its type, then its target, as ``ipctl`` prints it."""
    return f"{kind(destination)} {target(destination)}"
