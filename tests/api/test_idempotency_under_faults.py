"""Every keyed create makes its resource once, whatever fails between the resource and its idempotency record.

The record failing to save after the effect, or the Lambda dying after any AWS call of the request: the repeat
with the same key and body answers with the resource the first attempt made (``Idempotent-Replayed``), never a
second one, and a state change's event is recorded once.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest

from chalicelib.core import aws, faults
from chalicelib.core.config import get_settings
from tests.api.expect import error_of
from tests.support.api_client import ApiClient, Reply
from tests.support.events import recorded
from tests.support.idempotency import crash_then_repeat, expire_in_progress, record_not_saved, table
from tests.support.refusals import client_error, refused


@dataclass(frozen=True)
class Creation:
    collection: str  # ``{connection}`` stands for a GitHub connection made first
    body: dict[str, Any]
    id_field: str
    event_type: str | None = None


CREATIONS = {
    "connection": Creation(
        "/integrations/connections",
        {"providerId": "prov-github", "displayName": "GH", "credentials": {"token": "tok-keyed"}},
        "connectionId",
        "ConnectionCreated",
    ),
    "subscription": Creation(
        "/webhooks/subscriptions", {"endpointUrl": "http://127.0.0.1:9/in", "eventTypes": ["*"]}, "subscriptionId"
    ),
    "api key": Creation("/auth/api-keys", {"name": "ci", "scopes": ["integration.providers.read"]}, "apiKeyId"),
    "schedule": Creation(
        "/integrations/connections/{connection}/schedules",
        {"operation": "GetRepository", "parameters": {"owner": "octo", "repo": "hello"}, "rate": "1 day"},
        "scheduleId",
        "ScheduleCreated",
    ),
}


def collection(client: ApiClient, creation: Creation) -> str:
    if "{connection}" not in creation.collection:
        return creation.collection
    connection = client.post("/integrations/connections", CREATIONS["connection"].body)
    assert connection.status == 201, connection.body
    return creation.collection.replace("{connection}", connection.json["connectionId"])


def start(client: ApiClient, tenant: str, name: str) -> tuple[Creation, str, list[str], int]:
    """The creation, its collection's path, the ids already in it and how many of its events are recorded."""
    creation = CREATIONS[name]
    path = collection(client, creation)
    events = len(recorded(tenant, creation.event_type)) if creation.event_type else 0
    return creation, path, ids(client, path, creation.id_field), events


def ids(client: ApiClient, path: str, id_field: str) -> list[str]:
    listed = client.get(f"{path}?limit=100")
    assert listed.status == 200, listed.body
    return sorted(item[id_field] for item in listed.json["items"])


@pytest.mark.parametrize("name", CREATIONS)
def test_the_record_failing_to_save_then_the_repeat_answers_the_same_resource(
    client: ApiClient, tenant: str, name: str
) -> None:
    creation, path, before, events_before = start(client, tenant, name)
    headers = {"Idempotency-Key": f"saved-not-{name}"}
    with record_not_saved() as refused:
        first = client.post(path, creation.body, headers=headers)
    assert refused and first.status == 201, first.body  # the effect is done: that is the answer
    again = client.post(path, creation.body, headers=headers)
    assert again.status == 201 and again.header("Idempotent-Replayed") == "true", again.body
    assert again.json[creation.id_field] == first.json[creation.id_field]
    assert again.header("Location") == first.header("Location")
    assert not {"apiKey", "webhookSecret", "signingSecret"} & set(again.json)  # shown once, never again
    assert ids(client, path, creation.id_field) == sorted([*before, first.json[creation.id_field]])
    if creation.event_type:
        assert len(recorded(tenant, creation.event_type)) == events_before + 1


@pytest.mark.parametrize("name", CREATIONS)
def test_a_request_dying_after_any_aws_call_then_repeated_makes_one_resource_per_key(
    client: ApiClient, tenant: str, name: str
) -> None:
    creation, path, before, events_before = start(client, tenant, name)

    def post(key: str) -> Reply:
        return client.post(path, creation.body, headers={"Idempotency-Key": key})

    keys, repeats = crash_then_repeat(post, f"crash-{name}")
    assert len(repeats) >= 2
    for key, reply in repeats:
        assert reply.status == 201, (key, reply.body)
    made = ids(client, path, creation.id_field)
    assert len(made) == len(before) + len(keys)  # one per key, never two
    assert {reply.json[creation.id_field] for _, reply in repeats} <= set(made)
    if creation.event_type:
        assert len(recorded(tenant, creation.event_type)) == events_before + len(keys)


def test_a_keyed_connection_whose_first_attempt_died_after_its_secrets_owns_exactly_those_secrets(
    client: ApiClient, tenant: str
) -> None:
    """The secrets sit at paths derived from the keyed id: the repeat writes over them rather than failing or
    leaving a second pair behind."""
    creation = CREATIONS["connection"]
    keys, repeats = crash_then_repeat(
        lambda key: client.post(creation.collection, creation.body, headers={"Idempotency-Key": key}), "secrets"
    )
    prefix = f"{get_settings().secret_prefix}{tenant}/"
    names = [
        s["Name"]
        for page in aws.secretsmanager().get_paginator("list_secrets").paginate()
        for s in page["SecretList"]
        if s["Name"].startswith(prefix)
    ]
    connections = ids(client, creation.collection, creation.id_field)
    assert len(connections) == len(keys)
    for connection_id in connections:
        assert sum(connection_id in name for name in names) == 2, connection_id  # its credential, its webhook secret
    assert len(names) == 2 * len(keys)
    assert all(reply.status == 201 for _, reply in repeats)


def test_a_refused_request_whose_in_progress_record_cannot_be_dropped_keeps_its_own_answer(client: ApiClient) -> None:
    """The request's own error (here 422) is its answer even when the record it leaves cannot be deleted; that
    record only holds the key until the invocation's time is up, and then the repeat is refused the same way."""
    body = {**CREATIONS["connection"].body, "providerId": "prov-nope"}
    headers = {"Idempotency-Key": "refused-and-stuck"}
    throttled = lambda: client_error("ThrottlingException")  # noqa: E731
    with refused(aws.dynamodb(), "DeleteItem", throttled, when=lambda p: p["TableName"] == table()) as calls:
        first = client.post("/integrations/connections", body, headers=headers)
    assert calls
    error_of(first, 422, "UNPROCESSABLE_ENTITY")
    error_of(client.post("/integrations/connections", body, headers=headers), 409, "IDEMPOTENCY_KEY_IN_PROGRESS")
    expire_in_progress()
    error_of(client.post("/integrations/connections", body, headers=headers), 422, "UNPROCESSABLE_ENTITY")


def test_a_keyed_event_is_recorded_once_through_a_503_and_a_lost_record(client: ApiClient, tenant: str) -> None:
    """``POST /events`` derives the event id from tenant and key: a throttled write is a 503 the repeat completes,
    and a repeat whose record was lost finds the event (answered 200, as the event already existed)."""
    event = {"type": "InvoicePaid", "data": {"amount": 1}}
    headers = {"Idempotency-Key": "event-under-faults"}
    events_table = get_settings().table_name("events")
    throttled = lambda: client_error("ProvisionedThroughputExceededException")  # noqa: E731
    with refused(aws.dynamodb(), "PutItem", throttled, when=lambda p: p["TableName"] == events_table) as calls:
        unavailable = client.post("/events", event, headers=headers)
    assert calls
    error_of(unavailable, 503, "SERVICE_UNAVAILABLE")
    assert unavailable.header("Retry-After") == "1"
    with record_not_saved():
        first = client.post("/events", event, headers=headers)
    assert first.status == 201, first.body
    again = client.post("/events", event, headers=headers)
    assert again.status == 200 and again.header("Idempotent-Replayed") == "true"
    assert again.json["eventId"] == first.json["eventId"]
    assert len(recorded(tenant, "InvoicePaid")) == 1


HEAVY = "dynamodb=0.5,secretsmanager=0.5,scheduler=0.5"


@pytest.mark.parametrize("name", CREATIONS)
def test_keyed_creates_repeated_through_heavy_aws_faults_make_one_resource_per_key(
    client: ApiClient, tenant: str, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Half the HTTP attempts to DynamoDB, Secrets Manager and Scheduler fail, a seed per attempt: a client that
    repeats each keyed create on 503 and 409 gets one resource per key and never a 500."""
    creation = CREATIONS[name]
    path = collection(client, creation)
    before = ids(client, path, creation.id_field)
    monkeypatch.setattr("botocore.retries.standard.ExponentialBackoff.delay_amount", lambda *_: 0)
    seeds = iter(range(1, 10_000))
    seen: Counter[int] = Counter()
    answered: set[str] = set()
    for n in range(8):
        for _ in range(50):  # only the request is faulted; the test's own reads are not
            monkeypatch.setenv(faults.SPEC_VARIABLE, HEAVY)
            monkeypatch.setenv(faults.SEED_VARIABLE, str(next(seeds)))
            aws.reset_clients()
            reply = client.post(path, creation.body, headers={"Idempotency-Key": f"faulty-{name}-{n}"})
            monkeypatch.delenv(faults.SPEC_VARIABLE)
            aws.reset_clients()
            seen[reply.status] += 1
            if reply.status == 201:
                answered.add(reply.json[creation.id_field])
                break
            assert reply.status in (409, 503), reply.body
            assert reply.header("Retry-After") == "1"
            if reply.status == 409:
                expire_in_progress()
    print(
        f"\n{name} under dynamodb=0.5,secretsmanager=0.5,scheduler=0.5: answers by status {dict(sorted(seen.items()))}"
    )
    made = ids(client, path, creation.id_field)
    assert len(answered) == 8 and sorted(set(made) - set(before)) == sorted(answered)
    if creation.event_type:
        assert len({e["data"][creation.id_field] for e in recorded(tenant, creation.event_type)} & answered) == 8
