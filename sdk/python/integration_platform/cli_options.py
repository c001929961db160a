"""Argument types and the option groups ``ipctl`` commands share (``integration_platform.cli``).

``subscriptions create`` and ``subscriptions update`` take the same options and
build their request bodies the same way, so a field one of them learns, the
other learns too.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, cast

from integration_platform import destinations, jsonread, models


def json_arg(text: str) -> Any:
    try:
        return jsonread.read(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not JSON: {error}") from error


# ``subscriptions create --sqs ARN`` and the like: each AWS destination type by its ARN (``--endpoint`` is a webhook).
DESTINATION_OPTIONS: dict[str, Callable[[str], models.Destination]] = {
    "sqs": destinations.sqs,
    "sns": destinations.sns,
    "eventbridge": destinations.eventbridge,
    "kinesis": destinations.kinesis,
}


# Options create and update share, by the request field each sets.
SUBSCRIPTION_FIELDS = {
    "filter": "filter",
    "transform": "transform",
    "delivery": "delivery",
    "ordering_key": "orderingKey",
    "description": "description",
}


def subscription_fields(args: argparse.Namespace) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if args.endpoint:
        fields["endpointUrl"] = args.endpoint  # a webhook, as every platform version reads it
    for name, make in DESTINATION_OPTIONS.items():
        if getattr(args, name):
            fields["destination"] = make(getattr(args, name))
    for option, field in SUBSCRIPTION_FIELDS.items():
        if getattr(args, option) is not None:
            fields[field] = getattr(args, option)
    if args.event_type:
        fields["eventTypes"] = args.event_type
    return fields


def subscription_request(args: argparse.Namespace) -> models.CreateSubscriptionRequest:
    return cast(models.CreateSubscriptionRequest, subscription_fields(args))


def subscription_update(args: argparse.Namespace) -> models.UpdateSubscriptionRequest:
    fields = subscription_fields(args)
    if args.active is not None:
        fields["active"] = args.active
    return cast(models.UpdateSubscriptionRequest, fields)


def subscription_options(sub: argparse.ArgumentParser, *, creating: bool) -> None:
    where = sub.add_mutually_exclusive_group(required=creating)
    where.add_argument("--endpoint", metavar="URL", help="a webhook: the endpoint URL")
    for name in DESTINATION_OPTIONS:
        where.add_argument(f"--{name}", metavar="ARN", help=f"an {name} destination: its ARN")
    types = "repeat for several" + ("" if creating else "; replaces the list")
    sub.add_argument("--event-type", action="append", required=creating, help=types)
    sub.add_argument("--filter", type=json_arg, help="JSON: an EventBridge pattern over the event")
    sub.add_argument("--transform", metavar="JMESPATH", help="project the body, e.g. '{order: data.order}'")
    sub.add_argument("--delivery", choices=["unordered", "ordered"])
    sub.add_argument("--ordering-key", metavar="PATH", help="ordered only: e.g. data.order.id")
    sub.add_argument("--description")
