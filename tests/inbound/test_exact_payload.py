"""A signed delivery is never refused or changed for its content: subscribers get what the vendor sent.

Before, a 61-digit integer made the consumer fail on every try (DynamoDB's
38-digit limit), ``1e-400`` was stored as 0, and a lone surrogate broke the
store with a 500.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from tests.inbound import signers
from tests.inbound.conftest import Hook, post_delivery
from tests.outbound.conftest import QueueDriver
from tests.outbound.helpers import subscribe
from tests.support.api_client import ApiClient
from tests.support.receiver import serve_receiver

BIG = "1" + "0" * 60
PAYLOAD = (
    '{"action":"opened","issue":{"number":' + BIG + ',"tiny":1e-400,"huge":1e400,"price":1.50,'
    '"title":"\\ud800 lone","deep":' + "[" * 34 + "1" + "]" * 34 + "}}"
)


def test_unusual_vendor_json_is_accepted_processed_and_delivered_exactly(
    client: ApiClient, connect: Callable[..., Hook], tenant: str
) -> None:
    hook = connect("prov-github")
    with serve_receiver() as receiver:
        subscribe(client, receiver, ["IssueOpened"])
        driver = QueueDriver()
        body = PAYLOAD.encode()
        delivery_id = str(uuid.uuid4())
        headers = {"X-GitHub-Event": "issues", "X-GitHub-Delivery": delivery_id, **signers.github(hook.secret, body)}
        accepted = post_delivery(client, hook.connection_id, body, headers)
        assert accepted.status == 202, accepted.body
        delivery = client.get(f"/webhooks/deliveries/{accepted.json['deliveryId']}").json
        assert delivery["status"] == "Processed"
        issue = delivery["payload"]["issue"]
        # The API view: what a float holds is a number, what it does not is the literal text.
        assert issue["number"] == int(BIG) and issue["tiny"] == "1e-400" and issue["price"] == 1.5
        assert issue["title"] == "\ufffd lone"
        driver.drain(until=lambda: bool(receiver.accepted()))
        [received] = receiver.accepted()
        raw = received.raw.decode("ascii")
        assert '"payload":' + PAYLOAD in raw  # the vendor's JSON, untouched, inside the event envelope
        assert received.body["data"]["payload"]["issue"]["number"] == int(BIG)


def test_a_signed_delivery_nested_past_any_parser_is_stored_failed_not_a_500(
    client: ApiClient, connect: Callable[..., Hook]
) -> None:
    hook = connect("prov-github")
    body = b'{"action": "opened", "issue": ' + b"[" * 1000 + b"]" * 1000 + b"}"
    headers = {"X-GitHub-Event": "issues", "X-GitHub-Delivery": str(uuid.uuid4()), **signers.github(hook.secret, body)}
    kept = post_delivery(client, hook.connection_id, body, headers)
    assert kept.status == 202, kept.body
    delivery = client.get(f"/webhooks/deliveries/{kept.json['deliveryId']}").json
    assert delivery["status"] == "Failed"
    assert delivery["failureReason"] == "the delivery could not be read: The body is nested too deeply."
