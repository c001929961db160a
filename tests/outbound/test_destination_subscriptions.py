"""Subscriptions with a destination: the wire shape, the checks before anything is stored, changing it, delivering.

The queues are real (moto) and grant the platform's writer role as the docs say, conditioned on the tenant's
session tag (``tests.support.destinations``); the dispatcher is the real handler (``QueueDriver``).
"""

from __future__ import annotations

import json
from typing import Any

from chalicelib.core import aws
from chalicelib.core.config import get_settings
from chalicelib.credentials import vault
from chalicelib.outbound import queue as queue_module
from chalicelib.outbound import service, store
from chalicelib.outbound.models import DispatchMessage
from infra.local.dev_issuer import DevIssuer
from tests.outbound.conftest import QueueDriver
from tests.outbound.helpers import attempts, publish
from tests.outbound.test_ordered import FifoDriver
from tests.support.api_client import ApiClient
from tests.support.crashes import each_crash
from tests.support.destinations import TenantResource, in_process

URL = "http://127.0.0.1:9/hooks"
FOREIGN = "arn:aws:sqs:eu-west-1:111122223333:orders"


def granted_queue(tenant_id: str, *, grant_access: bool = True) -> TenantResource:
    return TenantResource("sqs", tenant_id, in_process(), get_settings().destination_role_arn, granted=grant_access)


def create(client: ApiClient, **fields: Any) -> dict[str, Any]:
    reply = client.post("/webhooks/subscriptions", {"eventTypes": ["Order*"], **fields})
    assert reply.status == 201, reply.json
    body: dict[str, Any] = reply.json
    return body


def test_endpoint_url_and_a_webhook_destination_are_one_thing(client: ApiClient) -> None:
    short = create(client, endpointUrl=URL)
    long = create(client, destination={"type": "webhook", "url": URL})
    for made in (short, long):
        assert made["endpointUrl"] == URL and made["destination"] == {"type": "webhook", "url": URL}
        assert made["signingSecret"].startswith("whsec_") and made["signatureScheme"] == "v1"


def test_one_destination_or_the_other_and_only_a_webhook_is_signed(client: ApiClient, tenant: str) -> None:
    queue = granted_queue(tenant)
    for body, field in (
        ({"endpointUrl": URL, "destination": {"type": "sqs", "queueArn": queue.arn}}, "not both"),
        ({}, "give endpointUrl or destination"),
        ({"destination": {"type": "sqs", "queueArn": FOREIGN}}, "eu-west-1"),
        ({"destination": {"type": "sqs", "queueArn": "arn:aws:sns:us-east-1:111122223333:t"}}, "sns"),
        ({"destination": {"type": "ftp", "url": URL}}, "ftp"),
        ({"destination": {"type": "sqs", "queueArn": queue.arn}, "signingSecretRef": "kv://mine"}, "signed"),
        ({"destination": {"type": "sqs", "queueArn": queue.arn}, "signatureScheme": "v1a"}, "signed"),
    ):
        reply = client.post("/webhooks/subscriptions", {"eventTypes": ["Order*"], **body})
        assert reply.status == 400, (body, reply.json)
        assert field in json.dumps(reply.json), reply.json
    assert client.get("/webhooks/subscriptions").json["items"] == []  # nothing stored, no secret written


def test_an_sqs_subscription_reads_back_with_no_url_and_no_secret(client: ApiClient, tenant: str) -> None:
    queue = granted_queue(tenant)
    made = create(client, destination={"type": "sqs", "queueArn": queue.arn})
    assert made["destination"] == {"type": "sqs", "queueArn": queue.arn}
    for absent in ("endpointUrl", "signingSecret", "signingSecretRef", "signatureScheme", "publicKey"):
        assert made.get(absent) is None, absent
    read = client.get(f"/webhooks/subscriptions/{made['subscriptionId']}").json
    assert read["destination"] == made["destination"] and read.get("endpointUrl") is None
    item = store.SUBSCRIPTIONS.get(tenant, made["subscriptionId"])
    assert item is not None and "signingSecrets" not in item and "endpointUrl" not in item
    rotated = client.post(f"/webhooks/subscriptions/{made['subscriptionId']}/rotate-secret", {})
    assert rotated.status == 409 and "not signed" in rotated.json["error"]["message"]


def test_a_stored_item_without_a_destination_is_a_webhook(client: ApiClient, tenant: str) -> None:
    """Subscriptions stored before destinations have ``endpointUrl`` only: they read and deliver unchanged."""
    made = create(client, endpointUrl=URL)
    item = store.SUBSCRIPTIONS.get(tenant, made["subscriptionId"])
    assert item is not None and "destination" not in item
    assert service.to_model(item).destination.model_dump(by_alias=True) == {"type": "webhook", "url": URL}


def test_denied_access_is_a_422_naming_the_permission_before_anything_is_stored(client: ApiClient, tenant: str) -> None:
    ungranted = granted_queue(tenant, grant_access=False)
    reply = client.post(
        "/webhooks/subscriptions", {"eventTypes": ["Order*"], "destination": {"type": "sqs", "queueArn": ungranted.arn}}
    )
    assert reply.status == 422, reply.json
    assert "sqs:SendMessage" in json.dumps(reply.json)
    assert client.get("/webhooks/subscriptions").json["items"] == []


def test_tenant_b_cannot_aim_at_a_queue_granted_to_tenant_a(client: ApiClient, issuer: DevIssuer, tenant: str) -> None:
    queue = granted_queue(tenant)
    other = issuer.token("tenant-b-" + tenant)
    body = {"eventTypes": ["Order*"], "destination": {"type": "sqs", "queueArn": queue.arn}}
    reply = client.post("/webhooks/subscriptions", body, token=other)
    assert reply.status == 422, reply.json
    assert client.get("/webhooks/subscriptions", token=other).json["items"] == []
    assert create(client, destination={"type": "sqs", "queueArn": queue.arn})["destination"]["queueArn"] == queue.arn


def test_changing_the_destination_drops_or_makes_the_signing_secret(client: ApiClient, tenant: str) -> None:
    queue = granted_queue(tenant)
    made = create(client, endpointUrl=URL)
    path = f"/webhooks/subscriptions/{made['subscriptionId']}"
    ref = made["signingSecretRef"]
    to_sqs = client.request("PATCH", path, json_body={"destination": {"type": "sqs", "queueArn": queue.arn}})
    assert to_sqs.status == 200, to_sqs.json
    assert to_sqs.json.get("endpointUrl") is None and to_sqs.json.get("signingSecretRef") is None
    assert managed_secrets(tenant, made["subscriptionId"]) == []  # the platform-made secret is gone
    denied = client.request(
        "PATCH",
        path,
        json_body={"destination": {"type": "sqs", "queueArn": granted_queue(tenant, grant_access=False).arn}},
    )
    assert denied.status == 422 and client.get(path).json["destination"]["queueArn"] == queue.arn
    both = client.request("PATCH", path, json_body={"endpointUrl": URL, "destination": {"type": "webhook", "url": URL}})
    assert both.status == 400
    refused = client.request("PATCH", path, json_body={"endpointUrl": URL, "orderingKey": "data.order"})
    assert refused.status == 400 and client.get(path).json["destination"]["type"] == "sqs"
    assert managed_secrets(tenant, made["subscriptionId"]) == []  # none made for a refused change
    back = client.request("PATCH", path, json_body={"endpointUrl": URL})
    assert back.status == 200, back.json
    assert back.json["destination"] == {"type": "webhook", "url": URL} and back.json["endpointUrl"] == URL
    assert back.json["signingSecret"].startswith("whsec_") and back.json["signingSecretRef"] != ref
    assert "destination" not in (store.SUBSCRIPTIONS.get(tenant, made["subscriptionId"]) or {})
    [kept] = managed_secrets(tenant, made["subscriptionId"])
    assert vault.ref_for(kept) == back.json["signingSecretRef"]


def managed_secrets(tenant_id: str, subscription_id: str) -> list[str]:
    """The paths of the signing secrets the platform keeps for the subscription (none scheduled for deletion)."""
    prefix = vault.secret_name(tenant_id, f"webhooks/{subscription_id}/")
    listed = aws.secretsmanager().list_secrets(Filters=[{"Key": "name", "Values": [prefix]}])["SecretList"]
    return [s["Name"].removeprefix(vault.secret_name(tenant_id, "")) for s in listed if "DeletedDate" not in s]


def test_a_portal_session_cannot_aim_a_subscription_at_an_aws_destination(client: ApiClient, tenant: str) -> None:
    from tests.portal.test_portal_sessions import portal_token

    made = create(client, endpointUrl=URL)
    token = portal_token(client, subscriptionIds=[made["subscriptionId"]])
    queue = granted_queue(tenant)
    reply = client.request(
        "PATCH",
        f"/webhooks/subscriptions/{made['subscriptionId']}",
        json_body={"destination": {"type": "sqs", "queueArn": queue.arn}},
        token=token,
    )
    assert reply.status == 403, reply.json


def test_an_sqs_delivery_carries_the_webhook_body_and_goes_through_the_one_attempt_path(
    client: ApiClient, driver: QueueDriver, tenant: str
) -> None:
    queue = granted_queue(tenant)
    made = create(client, destination={"type": "sqs", "queueArn": queue.arn})
    event = publish(client, "OrderPlaced", {"order": {"id": "o-1", "total": 12.50}})
    driver.drain()
    [message] = queue.arrivals()
    assert message.body == {
        "id": event["eventId"],
        "type": "OrderPlaced",
        "timestamp": event["timestamp"],
        "data": {"order": {"id": "o-1", "total": 12.50}},
    }
    assert message.attributes["eventId"] == event["eventId"]
    assert message.attributes["eventType"] == "OrderPlaced"
    assert message.attributes["timestamp"] == event["timestamp"]
    [attempt] = attempts(client, made["subscriptionId"])
    assert attempt["status"] == "Succeeded" and attempt["statusCode"] == 200
    stats = client.get(f"/webhooks/subscriptions/{made['subscriptionId']}").json["stats"]
    assert (stats["totalCalls"], stats["failedCalls"]) == (1, 0), stats


def test_a_message_without_the_event_time_has_it_read(client: ApiClient, driver: QueueDriver, tenant: str) -> None:
    """A recovered delivery (or one queued before messages carried it) still gives the destination its time."""
    from chalicelib.outbound import target

    event = publish(client, "OrderPlaced", {})
    message = DispatchMessage(
        tenant_id=tenant, subscription_id="sub_x", event_id=event["eventId"], event_type="OrderPlaced"
    )
    assert target.envelope(message, b"{}").timestamp == event["timestamp"]


def test_preview_shows_the_destination_and_the_unsigned_body(client: ApiClient, tenant: str) -> None:
    queue = granted_queue(tenant)
    made = create(client, destination={"type": "sqs", "queueArn": queue.arn}, transform="{order: data.order}")
    reply = client.post(
        f"/webhooks/subscriptions/{made['subscriptionId']}/preview",
        {"event": {"type": "OrderPlaced", "data": {"order": "o-9"}}},
    )
    assert reply.status == 200, reply.json
    assert reply.json["matches"] is True and reply.json["destination"] == made["destination"]
    assert json.loads(reply.json["body"]) == {"order": "o-9"}
    assert reply.json.get("headers") is None and reply.json.get("signatureScheme") is None
    assert queue.arrivals() == []  # a preview sends nothing


def test_recover_and_redeliver_reach_an_sqs_destination_again(
    client: ApiClient, driver: QueueDriver, outbound_env: Any, tenant: str
) -> None:
    """A delivery that failed for good while the queue was gone is requeued by recover-since once it is back,
    and a redelivery sends a delivered event again (a fresh delivery id, so a FIFO queue keeps it)."""
    outbound_env(WEBHOOK_RETRY_SCHEDULE="0.01")
    queue = TenantResource("sqs", tenant, in_process(), get_settings().destination_role_arn, fifo=True)
    made = create(client, destination=queue.destination, delivery="ordered", orderingKey="data.order")
    path = f"/webhooks/subscriptions/{made['subscriptionId']}"
    ordered = FifoDriver(driver)
    queue.remove()
    lost = publish(client, "OrderPlaced", {"order": "o-1"})
    ordered.drain()
    assert [a["status"] for a in attempts(client, made["subscriptionId"])] == ["Failed", "Retrying"]
    # Parked in the ordered dead letters, shared by every test: taken out here, as an operator would redrive it.
    dead_letters = queue_module.queue_url(queue_module.ordered_dead_letter_queue_name())
    [parked] = [m for m in ordered.dead_letters() if json.loads(m["Body"])["tenantId"] == tenant]
    assert json.loads(parked["Body"])["eventId"] == lost["eventId"]
    aws.sqs().delete_message(QueueUrl=dead_letters, ReceiptHandle=parked["ReceiptHandle"])
    queue.restore()
    recovered = client.post(path + "/recover", {"since": "2000-01-01T00:00:00Z"})
    assert recovered.status == 202 and recovered.json["eventIds"] == [lost["eventId"]], recovered.json
    ordered.drain()
    [arrival] = queue.arrivals()
    assert arrival.body["id"] == lost["eventId"] and arrival.group == "o-1"
    assert arrival.attributes["timestamp"] == lost["timestamp"]  # read from the event: the message had none
    again = client.post(f"/events/{lost['eventId']}/redeliver", {"subscriptionId": made["subscriptionId"]})
    assert again.status == 202, again.json
    ordered.drain()
    assert [a.body["id"] for a in queue.arrivals()] == [lost["eventId"]]


def test_a_dispatcher_killed_after_any_call_writes_a_fifo_destination_once(
    client: ApiClient, driver: QueueDriver, tenant: str
) -> None:
    """Killed after each AWS call in turn (as a Lambda timeout would) and run again each time (SQS's redelivery):
    the write is retried under the same deduplication id, the delivery's, so the FIFO queue keeps one message and
    the delivery ends recorded as succeeded."""
    queue = TenantResource("sqs", tenant, in_process(), get_settings().destination_role_arn, fifo=True)
    made = create(client, destination=queue.destination)
    event = publish(client, "OrderPlaced", {"order": "o-7"})
    [raw] = driver.receive()
    message = DispatchMessage.model_validate_json(raw["Body"])
    item = store.SUBSCRIPTIONS.get(tenant, made["subscriptionId"])

    def deliver() -> None:
        from chalicelib.outbound import dispatcher

        dispatcher.deliver(message, item)

    crashes = each_crash(deliver, lambda crash: None)
    assert crashes >= 3  # the write, the attempt's log entry and its status, at least
    deliver()  # the redelivery after the last crash
    aws.sqs().delete_message(QueueUrl=driver.url, ReceiptHandle=raw["ReceiptHandle"])  # done: acknowledged
    assert [a.body["id"] for a in queue.arrivals()] == [event["eventId"]]
    assert {a["status"] for a in attempts(client, made["subscriptionId"])} == {"Succeeded"}
