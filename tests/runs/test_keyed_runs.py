"""A keyed run is made once, whatever fails between the run and its idempotency record, and runs the vendor once."""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from chalicelib.core import aws, faults
from chalicelib.core.config import get_settings
from chalicelib.runs import store
from chalicelib.runs.models import RunStatus
from tests.runs.conftest import run_of
from tests.support.api_client import ApiClient, Reply
from tests.support.fake_vendor import FakeVendor
from tests.support.idempotency import crash_then_repeat, expire_in_progress, record_not_saved
from tests.support.run_driver import connect, deliver, runs_queue

CHARGE = {"method": "POST", "path": "/charges", "body": {"amount": 1200, "currency": "eur"}}


def execute(client: ApiClient, connection_id: str, key: str) -> Reply:
    path = f"/integrations/connections/{connection_id}/operations/Request"
    return client.post(path, {"parameters": CHARGE}, headers={"Idempotency-Key": key})


def drain(handler: Any, tenant: str) -> int:
    """Deliver the runs queue until it is empty, as the event source mapping would; the messages handled."""
    handled = 0
    while True:
        messages, _ = deliver(handler, runs_queue(), tenant)
        if not messages:
            return handled
        handled += len(messages)


@contextmanager
def faults_off() -> Iterator[None]:
    """The test's own bookkeeping goes to AWS unfaulted."""
    spec = os.environ.pop(faults.SPEC_VARIABLE)
    aws.reset_clients()
    try:
        yield
    finally:
        os.environ[faults.SPEC_VARIABLE] = spec
        aws.reset_clients()


def runs_of(tenant: str) -> list[str]:
    return [run.run_id for run in store.list_page(tenant, 100, None, None, None)[0]]


def test_the_record_failing_to_save_after_the_run_is_queued_then_the_repeat_is_the_same_run_run_once(
    client: ApiClient, tenant: str, vendor: FakeVendor, handler: Any
) -> None:
    connection_id = connect(client, vendor.url)
    with record_not_saved() as refused:
        first = execute(client, connection_id, "charge-once")
    assert refused, "the response's record was never saved"
    assert first.status == 202, first.body  # the run was made and queued: that is the answer
    again = execute(client, connection_id, "charge-once")
    assert again.status == 202, again.body
    assert again.json["runId"] == first.json["runId"] and again.header("Idempotent-Replayed") == "true"
    assert again.header("Location") == first.header("Location")
    assert drain(handler, tenant) == 2  # the repeat queued it again: the first send may not have happened
    assert runs_of(tenant) == [first.json["runId"]]
    assert run_of(tenant, first.json["runId"]).status == RunStatus.COMPLETED
    assert len(vendor.api_requests()) == 1
    third = execute(client, connection_id, "charge-once")  # now recorded: the response itself is replayed
    assert third.json["runId"] == first.json["runId"] and third.header("Idempotent-Replayed") == "true"


def test_a_request_dying_after_any_aws_call_then_repeated_makes_one_run_and_one_vendor_call(
    client: ApiClient, tenant: str, vendor: FakeVendor, handler: Any
) -> None:
    connection_id = connect(client, vendor.url)
    keys, repeats = crash_then_repeat(lambda key: execute(client, connection_id, key), "crash")
    assert len(repeats) >= 4  # idempotency record, connection, run, queue, ... each a crash point
    for key, reply in repeats:
        assert reply.status == 202, (key, reply.body)
    drain(handler, tenant)
    answered = {reply.json["runId"] for _, reply in repeats}
    assert len(answered) == len(repeats) and answered <= set(runs_of(tenant))
    assert len(runs_of(tenant)) == len(keys)  # one run per key, never two
    assert all(run_of(tenant, run_id).status == RunStatus.COMPLETED for run_id in runs_of(tenant))
    assert len(vendor.api_requests()) == len(keys)


def test_two_concurrent_requests_with_one_key_make_one_run(
    client: ApiClient, tenant: str, vendor: FakeVendor, handler: Any
) -> None:
    """The first is held just before it writes its run, its in-progress record expires (as if its invocation had
    timed out), and a second request with the same key runs meanwhile: both answer with the one run."""
    connection_id = connect(client, vendor.url)
    runs_table = get_settings().table_name("runs")
    entered, release = threading.Event(), threading.Event()

    def hold_first(params: dict[str, Any], **_: Any) -> None:
        if params.get("TableName") == runs_table and not entered.is_set():
            entered.set()
            release.wait(10)

    events = aws.dynamodb().meta.events
    events.register("provide-client-params.dynamodb.PutItem", hold_first, unique_id="hold-first-run")
    replies: list[Reply] = []
    first = threading.Thread(target=lambda: replies.append(execute(client, connection_id, "race")))
    try:
        first.start()
        assert entered.wait(10)
        assert expire_in_progress() >= 1
        second = execute(client, connection_id, "race")
    finally:
        release.set()
        first.join(10)
        events.unregister("provide-client-params.dynamodb.PutItem", unique_id="hold-first-run")
    assert second.status == replies[0].status == 202, (second.body, replies[0].body)
    assert second.json["runId"] == replies[0].json["runId"]
    assert replies[0].header("Idempotent-Replayed") == "true"  # the held one found the run the other wrote
    drain(handler, tenant)
    assert runs_of(tenant) == [second.json["runId"]]
    assert len(vendor.api_requests()) == 1


def test_keyed_runs_retried_through_heavy_aws_faults_make_one_run_and_one_vendor_call_per_key(
    client: ApiClient, tenant: str, vendor: FakeVendor, handler: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Half of DynamoDB's and SQS's HTTP attempts fail (seeded; botocore retries each call up to 4 times): a client
    that repeats each keyed run until it gets a 2xx, as told by 503 and 409, ends with one run per key."""
    connection_id = connect(client, vendor.url)
    monkeypatch.setattr("botocore.retries.standard.ExponentialBackoff.delay_amount", lambda *_: 0)
    monkeypatch.setenv(faults.SPEC_VARIABLE, "dynamodb=0.5,sqs=0.5")
    monkeypatch.setenv(faults.SEED_VARIABLE, "21")
    aws.reset_clients()
    seen: Counter[int] = Counter()
    answered: dict[str, str] = {}
    try:
        for n in range(40):
            key = f"faulty-{n}"
            for _ in range(50):
                reply = execute(client, connection_id, key)
                seen[reply.status] += 1
                if reply.status == 202:
                    answered[key] = reply.json["runId"]
                    break
                assert reply.status in (409, 503), reply.body  # never a 500
                assert reply.header("Retry-After") == "1"
                if reply.status == 409:
                    with faults_off():
                        expire_in_progress()  # the time a dead invocation's record holds its key
    finally:
        monkeypatch.delenv(faults.SPEC_VARIABLE)
        aws.reset_clients()
    print(f"\nkeyed runs under dynamodb=0.5,sqs=0.5: answers by status {dict(sorted(seen.items()))}")
    assert len(answered) == 40 and seen[503] > 0  # the faults did reach the API
    drain(handler, tenant)
    assert sorted(runs_of(tenant)) == sorted(answered.values())  # one run per key, the one answered
    assert len(vendor.api_requests()) == 40
