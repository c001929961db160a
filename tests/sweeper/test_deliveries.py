"""An inbound delivery answered 503 (stored, the SQS send failed) whose vendor never retries."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from chalicelib.inbound import queue, store
from chalicelib.sweeper import sweep
from tests.inbound import signers
from tests.inbound.conftest import Hook, connect, drain, events_of, json_bytes, post_delivery
from tests.support.api_client import ApiClient
from tests.sweeper.conftest import indexed, later

__all__ = ["connect", "drain"]  # the inbound fixtures: connections with webhook secrets, the real consumer


def test_a_delivery_whose_send_failed_is_resent_by_the_sweeper_and_processed(
    client: ApiClient,
    connect: Callable[..., Hook],
    drain: Callable[..., Any],
    tenant: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hook = connect("prov-github")
    body = json_bytes({"action": "opened", "issue": {"number": 7}})
    headers = {"X-GitHub-Event": "issues", "X-GitHub-Delivery": str(uuid.uuid4()), **signers.github(hook.secret, body)}
    send = queue.send

    def fail_once(message: dict[str, Any]) -> None:
        monkeypatch.setattr(queue, "send", send)
        raise ConnectionError("SQS is unreachable")

    monkeypatch.setattr(queue, "send", fail_once)
    refused = post_delivery(client, hook.connection_id, body, headers)
    assert refused.status == 503  # and the vendor never retries
    [delivery] = store.list_by_connection(tenant, hook.connection_id, 10, None)[0]
    key = {"tenantId": tenant, "deliveryId": delivery.delivery_id}
    assert delivery.status == "Received" and indexed(store.table_name(), key)

    sweep.run()  # not due yet: nothing is sent
    drain()
    assert events_of(tenant) == [] and store.get(tenant, delivery.delivery_id).status == "Received"  # type: ignore[union-attr]

    assert sweep.run(later(301)).get("deliveries.resent", 0) >= 1
    drain()
    [event] = events_of(tenant)
    assert event["type"] == "IssueOpened"
    processed = client.get(f"/webhooks/deliveries/{delivery.delivery_id}").json
    assert processed["status"] == "Processed" and processed["eventId"] == event["eventId"]
    assert not indexed(store.table_name(), key)  # final: out of the index
    sweep.run(later(3600))
    drain()
    assert len(events_of(tenant)) == 1


def test_a_delivery_handed_on_at_once_leaves_the_index_when_processed(
    client: ApiClient, connect: Callable[..., Hook], drain: Callable[..., Any], tenant: str
) -> None:
    hook = connect("prov-stripe")
    body = json_bytes({"id": "evt_sweep", "type": "charge.refunded"})
    accepted = post_delivery(client, hook.connection_id, body, signers.stripe(hook.secret, body))
    key = {"tenantId": tenant, "deliveryId": accepted.json["deliveryId"]}
    assert accepted.status == 202 and indexed(store.table_name(), key)
    drain()
    assert not indexed(store.table_name(), key)
