"""Faults: a flaky, slow receiver loses nothing; a dead one ends in the DLQ and is disabled; faulted AWS writes
to destinations are retried until they land."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

from chalicelib.core import aws, faults
from chalicelib.core.config import get_settings
from chalicelib.events.emit import emit
from tests.outbound.conftest import QueueDriver
from tests.outbound.helpers import all_accepted, attempts, publish, subscribe
from tests.support.api_client import ApiClient
from tests.support.destinations import TenantResource, in_process
from tests.support.receiver import Behaviour, serve_receiver

EVENTS = 200
WAVE = 40


def test_a_flaky_receiver_eventually_gets_every_event(
    client: ApiClient, driver: QueueDriver, outbound_env: Callable[..., None], tenant: str
) -> None:
    # Fifteen quick retries: a third of requests fail and 5% hang, so losing one of
    # 200 events to sixteen failures in a row is out of reach (about 1e-5).
    outbound_env(WEBHOOK_RETRY_SCHEDULE=",".join(["0.01"] * 15), WEBHOOK_TIMEOUT_SECONDS="0.3")
    behaviour = Behaviour(fail_ratio=1 / 3, hang_ratio=0.05, hang_seconds=0.6)
    with serve_receiver(behaviour, seed=11) as receiver:
        sub = subscribe(client, receiver, ["Load*"])
        published: set[str] = set()
        for wave in range(0, EVENTS, WAVE):
            # Waves keep moto's queue short: its receive cost grows with the queue length.
            published |= {emit(tenant, "LoadTest", {"n": n}, source="test").event_id for n in range(wave, wave + WAVE)}
            driver.drain(until=all_accepted(receiver, set(published)))
        driver.drain()
        assert receiver.verification_errors == []
        assert published <= receiver.accepted_ids
        answers = Counter(500 if r.answered == 500 else ("hung" if r.hung else "ok") for r in receiver.received)
        assert answers[500] > EVENTS // 5 and answers["hung"] > 0

    # Outcomes, not counts that race: an attempt can time out or fail to connect before the
    # receiver records it, so the log may hold more attempts than the receiver saw, never fewer.
    logged = attempts(client, sub["subscriptionId"], limit=100)
    by_event: dict[str, list[dict[str, Any]]] = {}
    for entry in sorted(logged, key=lambda a: a["attempt"]):
        by_event.setdefault(entry["eventId"], []).append(entry)
    assert set(by_event) == published
    for entries in by_event.values():
        assert [a["attempt"] for a in entries] == list(range(1, len(entries) + 1)), "each attempt logged once"
        assert [a["status"] for a in entries] == ["Retrying"] * (len(entries) - 1) + ["Succeeded"]
    answered = Counter((r.message_id, r.answered) for r in receiver.received)
    assert Counter((a["eventId"], a["statusCode"]) for a in logged if "statusCode" in a) <= answered, (
        "every logged answer is one the receiver gave"
    )
    assert all(a["error"] for a in logged if "statusCode" not in a), "an attempt without an answer says why"
    sent = Counter(r.message_id for r in receiver.received)
    assert all(sent[event_id] <= len(entries) for event_id, entries in by_event.items()), "every send was logged"
    failures = [a for a in logged if a["status"] == "Retrying"]
    assert any(a.get("statusCode") == 500 and a.get("responseBody") for a in failures)
    assert any(a.get("error", "").startswith("timed out") for a in failures)
    assert all(a["nextRetryAt"] for a in failures)
    assert driver.reported_failures == 0
    assert not [m for m in driver.dead_letters() if json.loads(m["Body"])["tenantId"] == tenant]


def test_a_dead_endpoint_ends_in_the_dlq_and_is_disabled(
    client: ApiClient, driver: QueueDriver, outbound_env: Callable[..., None], tenant: str
) -> None:
    outbound_env(WEBHOOK_RETRY_SCHEDULE="1,1", WEBHOOK_DISABLE_AFTER_SECONDS="1.5")
    with serve_receiver(Behaviour(status=500)) as dead, serve_receiver() as operator:
        sub = subscribe(client, dead, ["Order*"])
        subscribe(client, operator, ["WebhookSubscriptionDisabled"])
        sent = {publish(client, "OrderPlaced", {"n": n})["eventId"] for n in range(3)}
        driver.drain(until=lambda: bool(operator.accepted()))
        driver.drain()

        fetched = client.get(f"/webhooks/subscriptions/{sub['subscriptionId']}").json
        assert fetched["status"] == "Disabled" and fetched["active"] is False
        assert "failed since" in fetched["disabledReason"]
        notices = operator.accepted()
        assert len({n.message_id for n in notices}) == 1, "one operator event (delivered at least once)"
        notice = notices[0]
        assert notice.body["type"] == "WebhookSubscriptionDisabled"
        assert notice.body["data"]["subscriptionId"] == sub["subscriptionId"]

    parked = [json.loads(m["Body"]) for m in driver.dead_letters()]
    assert {m["eventId"] for m in parked if m["tenantId"] == tenant} == sent
    logged = attempts(client, sub["subscriptionId"])
    final = [a for a in logged if a["status"] == "Failed"]
    assert {a["eventId"] for a in final} == sent
    assert max(a["attempt"] for a in logged) == 3


def test_destination_writes_under_heavy_aws_faults_lose_nothing(
    client: ApiClient, driver: QueueDriver, outbound_env: Callable[..., None], tenant: str, monkeypatch: Any
) -> None:
    """Half of every Kinesis and SNS call and a third of STS's fail (throttles, 500s, timeouts) once the
    subscriptions exist: an attempt botocore could not rescue is retried on the schedule, and every event reaches
    both of the tenant's destinations, with none dead-lettered."""
    outbound_env(WEBHOOK_RETRY_SCHEDULE=",".join(["0.01"] * 15))
    role = get_settings().destination_role_arn
    stream = TenantResource("kinesis", tenant, in_process(), role)
    topic = TenantResource("sns", tenant, in_process(), role)
    subs = [create_destination(client, r.destination)["subscriptionId"] for r in (stream, topic)]
    monkeypatch.setattr("botocore.retries.standard.ExponentialBackoff.delay_amount", lambda *_: 0)
    monkeypatch.setenv(faults.SPEC_VARIABLE, "kinesis=0.5,sns=0.5,sts=0.3")
    monkeypatch.setenv(faults.SEED_VARIABLE, "22")
    aws.reset_clients()
    published = {emit(tenant, "LoadTest", {"n": n}, source="test").event_id for n in range(30)}
    driver.drain()
    monkeypatch.delenv(faults.SPEC_VARIABLE)
    aws.reset_clients()
    for resource in (stream, topic):
        assert {a.body["id"] for a in resource.arrivals()} == published, resource.kind
    logged = [a for sub in subs for a in attempts(client, sub)]
    assert any(a["status"] == "Retrying" and a["error"] for a in logged), "some writes failed and were retried"
    assert {(a["eventId"], a["subscriptionId"]) for a in logged if a["status"] == "Succeeded"} == {
        (event_id, sub) for event_id in published for sub in subs
    }
    assert not [m for m in driver.dead_letters() if json.loads(m["Body"])["tenantId"] == tenant]


def create_destination(client: ApiClient, destination: dict[str, str]) -> dict[str, Any]:
    reply = client.post("/webhooks/subscriptions", {"eventTypes": ["Load*"], "destination": destination})
    assert reply.status == 201, reply.json
    body: dict[str, Any] = reply.json
    return body
