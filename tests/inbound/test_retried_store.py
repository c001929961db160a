"""A stored delivery whose put the SDK retried (its first response lost) is still accepted, with its event."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib.core import aws
from tests.inbound import signers
from tests.inbound.conftest import Hook, events_of, json_bytes, post_delivery
from tests.support.api_client import ApiClient


def test_a_retried_put_that_finds_its_own_write_is_accepted(
    client: ApiClient, tenant: str, connect: Callable[..., Hook]
) -> None:
    hook = connect()
    retried: list[str] = []

    def lose_first_response(request_dict: dict[str, Any], attempts: int, **_: Any) -> Any:
        """As if the put succeeded but its response never arrived: botocore sends it again."""
        if attempts == 1 and b"deliveryId" in request_dict.get("body", b"") and not retried:
            retried.append("put")
            return 0
        return None

    events = aws.dynamodb().meta.events
    events.register_first("needs-retry.dynamodb.PutItem", lose_first_response, unique_id="lose-put")
    try:
        body = json_bytes({"action": "opened", "number": 1})
        headers = {
            "X-GitHub-Event": "pull_request",
            "X-GitHub-Delivery": "retried-1",
            **signers.github(hook.secret, body),
        }
        reply = post_delivery(client, hook.connection_id, body, headers)
    finally:
        events.unregister("needs-retry.dynamodb.PutItem", unique_id="lose-put")
    assert retried == ["put"]
    assert reply.status == 202 and reply.json["status"] == "Accepted", reply.body
    assert [e["type"] for e in events_of(tenant)] == ["PullRequestOpened"]
