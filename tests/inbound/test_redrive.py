"""``POST /webhooks/deliveries/{id}/redrive``: a Failed delivery read again and its event published by the stream."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from chalicelib.events import store as events
from chalicelib.inbound import extract
from chalicelib.inbound import store as deliveries
from chalicelib.inbound.signatures import SignedRequest
from tests.inbound import signers
from tests.inbound.conftest import Hook, post_delivery
from tests.support.api_client import ApiClient
from tests.support.events import recorded
from tests.support.streams import StreamPump

BODY = b"id=evt_9&type=payment_intent.succeeded"  # a form, where Stripe sends JSON: no reader takes it yet


def _fixed_reader(request: SignedRequest, claims: dict[str, Any] | None) -> extract.Extracted:
    """The fix a deployment brings: this body read as the vendor meant it."""
    fields = dict(part.split("=") for part in request.body.decode().split("&"))
    return extract.Extracted(fields["id"], fields["type"], fields)


def _failed(client: ApiClient, hook: Hook) -> str:
    accepted = post_delivery(client, hook.connection_id, BODY, signers.stripe(hook.secret, BODY))
    assert accepted.status == 202, accepted.body
    return str(accepted.json["deliveryId"])


def test_a_delivery_read_again_after_a_fix_becomes_its_event_and_the_stream_publishes_it(
    client: ApiClient, connect: Callable[..., Hook], tenant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook = connect("prov-stripe")
    stream = StreamPump()
    delivery_id = _failed(client, hook)
    published = [e for e in map(events.published, stream.pending()) if e is not None]
    assert [e.type for e in published] == ["DeliveryFailed"]  # the Failed item's own INSERT publishes nothing
    position = len(stream.pending())

    still = client.post(f"/webhooks/deliveries/{delivery_id}/redrive", {})
    assert still.status == 409 and "still cannot be read" in still.json["error"]["message"], still.body
    assert client.get(f"/webhooks/deliveries/{delivery_id}").json["status"] == "Failed"

    monkeypatch.setitem(extract.VENDOR_FORMS, "stripe", _fixed_reader)
    redriven = client.post(f"/webhooks/deliveries/{delivery_id}/redrive", {})
    assert redriven.status == 202, redriven.body
    assert redriven.json["status"] == "Processed" and redriven.json["redriveCount"] == 1
    assert redriven.json["normalizedEventType"] == "PaymentSucceeded" and redriven.json["providerDeliveryId"] == "evt_9"
    shown = client.get(f"/webhooks/deliveries/{delivery_id}").json
    assert shown["payload"] == {"id": "evt_9", "type": "payment_intent.succeeded"} and "failureReason" not in shown
    [event] = recorded(tenant, "PaymentSucceeded")
    assert event["eventId"] == deliveries.event_id_for(delivery_id) == shown["eventId"]
    published = [e for e in map(events.published, stream.pending()[position:]) if e is not None]
    assert [e.event_id for e in published] == [event["eventId"]]  # the redrive's MODIFY, and only it

    again = client.post(f"/webhooks/deliveries/{delivery_id}/redrive", {})
    assert again.status == 409 and "Processed" in again.json["error"]["message"]


def test_a_redrive_of_what_is_not_there_or_not_failed_is_refused(
    client: ApiClient, connect: Callable[..., Hook]
) -> None:
    assert client.post("/webhooks/deliveries/del-000000000000000000000000/redrive", {}).status == 404
    hook = connect("prov-stripe")
    body = b'{"id": "evt_1", "type": "invoice.paid"}'
    accepted = post_delivery(client, hook.connection_id, body, signers.stripe(hook.secret, body))
    refused = client.post(f"/webhooks/deliveries/{accepted.json['deliveryId']}/redrive", {})
    assert refused.status == 409 and refused.json["error"]["code"] == "CONFLICT"


def test_another_tenants_delivery_cannot_be_redriven(
    client: ApiClient, connect: Callable[..., Hook], issuer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook = connect("prov-stripe")
    delivery_id = _failed(client, hook)
    monkeypatch.setitem(extract.VENDOR_FORMS, "stripe", _fixed_reader)
    other = ApiClient(client._api, issuer.token("tenant-someone-else"))
    assert other.post(f"/webhooks/deliveries/{delivery_id}/redrive", {}).status == 404
    assert client.get(f"/webhooks/deliveries/{delivery_id}").json["status"] == "Failed"
