"""Filters and transforms through fan-out and the dispatcher, and the preview route."""

from __future__ import annotations

import json

from chalicelib.outbound import queue
from chalicelib.outbound.models import DispatchMessage
from tests.outbound.conftest import QueueDriver
from tests.outbound.helpers import attempts, publish, subscribe
from tests.support.api_client import ApiClient
from tests.support.receiver import serve_receiver

URL = "http://127.0.0.1:9/hooks"
BIG_ORDERS = {"data": {"amount": [{"numeric": [">=", 99.5]}], "currency": [{"anything-but": ["XXX"]}]}}


def test_a_non_matching_event_is_not_sent_and_the_transformed_body_is_signed_and_sent(
    client: ApiClient, driver: QueueDriver
) -> None:
    with serve_receiver() as receiver, serve_receiver() as everything:
        sub = subscribe(
            client, receiver, ["Order*"], filter=BIG_ORDERS, transform="{order: data.id, total: data.amount}"
        )
        subscribe(client, everything, ["Order*"])
        small = publish(client, "OrderPlaced", {"id": "o-1", "amount": 5, "currency": "EUR"})
        large = publish(client, "OrderPlaced", {"id": "o-2", "amount": 250, "currency": "EUR"})
        driver.drain()
        assert receiver.verification_errors == [] and everything.verification_errors == []
        assert everything.accepted_ids == {small["eventId"], large["eventId"]}
        [got] = receiver.accepted()
        assert got.message_id == large["eventId"]
        assert got.raw == b'{"order":"o-2","total":250}'
    assert [a["eventId"] for a in attempts(client, sub["subscriptionId"])] == [large["eventId"]]


def test_invalid_filters_and_transforms_are_a_400_that_says_where(client: ApiClient) -> None:
    base = {"eventTypes": ["*"], "endpointUrl": URL}
    bad_filter = client.post("/webhooks/subscriptions", {**base, "filter": {"data": {"n": [{"nmeric": [">", 1]}]}}})
    assert bad_filter.status == 400
    assert bad_filter.json["error"]["details"][0]["field"] == "filter.data.n[0].nmeric"
    bad_transform = client.post("/webhooks/subscriptions", {**base, "transform": "data.["})
    assert bad_transform.status == 400
    assert bad_transform.json["error"]["details"][0]["field"] == "transform"
    assert "column" in bad_transform.json["error"]["details"][0]["message"]
    created = client.post("/webhooks/subscriptions", base).json
    one = f"/webhooks/subscriptions/{created['subscriptionId']}"
    patched = client.request("PATCH", one, json_body={"filter": {"type": "OrderPlaced"}})
    assert patched.status == 400 and patched.json["error"]["details"][0]["field"] == "filter.type"


def test_update_sets_and_removes_filter_and_transform(client: ApiClient) -> None:
    created = client.post("/webhooks/subscriptions", {"eventTypes": ["*"], "endpointUrl": URL}).json
    one = f"/webhooks/subscriptions/{created['subscriptionId']}"
    assert "filter" not in created
    set_both = client.request("PATCH", one, json_body={"filter": BIG_ORDERS, "transform": "data"})
    assert set_both.status == 200 and set_both.json["filter"] == BIG_ORDERS and set_both.json["transform"] == "data"
    kept = client.request("PATCH", one, json_body={"description": "kept"}).json
    assert kept["filter"] == BIG_ORDERS
    cleared = client.request("PATCH", one, json_body={"filter": None, "transform": None}).json
    assert "filter" not in cleared and "transform" not in cleared


def test_preview_answers_match_body_and_headers_without_secrets(client: ApiClient) -> None:
    created = client.post(
        "/webhooks/subscriptions",
        {"eventTypes": ["Order*"], "endpointUrl": URL, "filter": BIG_ORDERS, "transform": "{total: data.amount}"},
    ).json
    path = f"/webhooks/subscriptions/{created['subscriptionId']}/preview"
    shown = client.post(path, {"event": {"type": "OrderPlaced", "data": {"amount": 100, "currency": "EUR"}}})
    assert shown.status == 200
    assert shown.json["matches"] is True and shown.json["body"] == '{"total":100}'
    headers = shown.json["headers"]
    assert headers["webhook-id"] == "evt_preview" and headers["Content-Type"] == "application/json"
    assert "webhook-signature" not in headers and "X-Signature-256" not in headers
    assert shown.json["signatureScheme"] == "v1"
    assert created["signingSecret"] not in json.dumps(shown.json)

    filtered = client.post(path, {"event": {"type": "OrderPlaced", "data": {"amount": 5}}}).json
    assert filtered["matches"] is False and filtered["filterMatches"] is False and filtered["eventTypeMatches"]
    assert "body" not in filtered
    wrong_type = client.post(path, {"event": {"type": "IssueOpened", "data": {"amount": 500}}}).json
    assert wrong_type["eventTypeMatches"] is False

    recorded = publish(client, "OrderPlaced", {"amount": 300, "currency": "USD"})
    by_id = client.post(path, {"eventId": recorded["eventId"]}).json
    assert by_id["matches"] is True and by_id["body"] == '{"total":300}'
    assert by_id["headers"]["webhook-id"] == recorded["eventId"]
    assert client.post(path, {"eventId": "evt-nope"}).status == 404
    both = client.post(path, {"eventId": recorded["eventId"], "event": {"type": "X"}})
    assert both.status == 400


def test_preview_reports_a_transform_that_fails_on_the_event(client: ApiClient) -> None:
    created = client.post(
        "/webhooks/subscriptions", {"eventTypes": ["*"], "endpointUrl": URL, "transform": "abs(data.name)"}
    ).json
    path = f"/webhooks/subscriptions/{created['subscriptionId']}/preview"
    shown = client.post(path, {"event": {"type": "X", "data": {"name": "text"}}}).json
    assert shown["matches"] is True and "body" not in shown and "transform failed" in shown["error"]


def test_a_transform_failing_at_send_time_is_a_final_failed_attempt(
    client: ApiClient, driver: QueueDriver, tenant: str
) -> None:
    """The message went out without a body (too large for SQS) and the transform fails when rebuilt."""
    with serve_receiver() as receiver:
        sub = subscribe(client, receiver, ["*"], transform="abs(data.name)")
        event = publish(client, "Named", {"name": "text"})
        driver.drain()
        queue.send_batch(
            [
                DispatchMessage(
                    tenant_id=tenant,
                    subscription_id=sub["subscriptionId"],
                    event_id=event["eventId"],
                    event_type="Named",
                )
            ]
        )
        driver.drain()
        assert receiver.received == []
    found = attempts(client, sub["subscriptionId"])
    assert found and all(a["status"] == "Failed" and "transform failed" in a["error"] for a in found)
    assert driver.dead_letters()
