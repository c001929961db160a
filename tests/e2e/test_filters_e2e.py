"""Over the local runtime: a filtered, transformed subscription, its preview, and what is really sent."""

from __future__ import annotations

import json
import secrets

from tests.e2e.conftest import LocalRuntime
from tests.support.receiver import serve_receiver
from tests.support.waiting import poll


def test_only_matching_events_arrive_transformed_as_the_preview_showed(local_runtime: LocalRuntime) -> None:
    token = local_runtime.token(f"tenant-{secrets.token_hex(4)}")
    with serve_receiver() as receiver:
        created = local_runtime.request(
            "POST",
            "/webhooks/subscriptions",
            token=token,
            json_body={
                "eventTypes": ["Invoice*"],
                "endpointUrl": receiver.url,
                "filter": {"data": {"total": [{"numeric": [">", 1000]}], "country": ["DE", "FR"]}},
                "transform": "{invoice: data.number, total: data.total, event: type}",
            },
        )
        assert created.status == 201, created.body
        receiver.trust(created.json["signingSecret"])
        path = f"/webhooks/subscriptions/{created.json['subscriptionId']}"

        small = {"type": "InvoicePaid", "data": {"number": "A-1", "total": 10, "country": "DE"}}
        large = {"type": "InvoicePaid", "data": {"number": "A-2", "total": 5000, "country": "FR"}}
        assert (
            local_runtime.request("POST", path + "/preview", token=token, json_body={"event": small}).json["matches"]
            is False
        )
        shown = local_runtime.request("POST", path + "/preview", token=token, json_body={"event": large}).json
        assert shown["matches"] is True

        local_runtime.request("POST", "/events", token=token, json_body=small)
        sent = local_runtime.request("POST", "/events", token=token, json_body=large).json
        [got] = poll(lambda: receiver.accepted(), "the matching delivery")
        assert receiver.verification_errors == []
        assert got.message_id == sent["eventId"]
        assert got.raw.decode() == shown["body"]
        assert json.loads(shown["body"]) == {"invoice": "A-2", "total": 5000, "event": "InvoicePaid"}
        by_id = local_runtime.request("POST", path + "/preview", token=token, json_body={"eventId": sent["eventId"]})
        assert by_id.json["body"] == got.raw.decode()
        attempts = local_runtime.request("GET", path + "/attempts", token=token).json["items"]
        assert [a["eventId"] for a in attempts] == [sent["eventId"]]
