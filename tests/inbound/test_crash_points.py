"""A handler that dies between any two of its AWS calls leaves state and event together, and its retry finishes.

``crash_points`` runs the operation once per AWS call it makes, killing it
right after that call (as a Lambda timeout or out-of-memory would). After each
crash the state and its events must agree: either the change happened with
exactly one event, or neither did (the inbound consumer alone may leave its
event recorded with the delivery still Received: it writes the event first).
Then the retry (the client's, or SQS's redelivery) must reach the final state
with exactly one event.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from chalicelib.inbound import handoff
from chalicelib.inbound import processing as inbound
from chalicelib.inbound import store as deliveries
from tests.inbound import signers
from tests.inbound.conftest import Hook, json_bytes, post_delivery
from tests.support.api_client import ApiClient
from tests.support.crashes import each_crash
from tests.support.events import recorded


@pytest.mark.parametrize("shape", ["handoff", "ids only"])
def test_the_inbound_consumer_killed_after_any_call_is_redelivered_to_exactly_one_event(
    client: ApiClient, connect: Callable[..., Hook], tenant: str, shape: str
) -> None:
    hook = connect("prov-github")
    body = json_bytes({"action": "opened", "issue": {"number": 5}})
    headers = {"X-GitHub-Event": "issues", "X-GitHub-Delivery": str(uuid.uuid4()), **signers.github(hook.secret, body)}
    accepted = post_delivery(client, hook.connection_id, body, headers)
    assert accepted.status == 202
    delivery_id = accepted.json["deliveryId"]
    stored = deliveries.get(tenant, delivery_id)
    assert stored is not None
    # What the API, the sweeper and redrive send; and the earlier ids-only shape a DLQ move may bring back.
    message = handoff.message(stored) if shape == "handoff" else {"tenantId": tenant, "deliveryId": delivery_id}
    between: list[int] = []

    def agree(crash: int) -> None:
        # The event is written first and the delivery marked after it (no transaction): a crash between
        # leaves the delivery Received with its event, which the retry below finishes. Never the reverse.
        delivery = deliveries.get(tenant, delivery_id)
        assert delivery is not None
        events = recorded(tenant, "IssueOpened")
        assert len(events) <= 1, crash
        if delivery.status.value == "Processed":
            assert [e["eventId"] for e in events] == [delivery.event_id], crash
        else:
            assert delivery.status.value == "Received", crash
            if events:
                between.append(crash)

    crashes = each_crash(lambda: inbound.process(message), agree)
    assert crashes >= 2 and between  # some crash fell between the event and the mark
    inbound.process(message)  # SQS's redelivery after the last crash
    delivery = deliveries.get(tenant, delivery_id)
    assert delivery is not None and delivery.status.value == "Processed"
    assert [e["eventId"] for e in recorded(tenant, "IssueOpened")] == [delivery.event_id]
