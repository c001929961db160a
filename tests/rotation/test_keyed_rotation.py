"""A keyed rotation starts once, whatever fails between it and its idempotency record, and verifies once."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from chalicelib.core import aws, faults
from chalicelib.credentials import store
from chalicelib.credentials.versions import CURRENT
from tests.rotation import test_rotation
from tests.rotation.test_rotation import NEW, drive, setup, value
from tests.support.api_client import ApiClient, Reply
from tests.support.fake_vendor import FakeVendor
from tests.support.idempotency import crash_then_repeat, expire_in_progress, record_not_saved

# The rotation tests' fixtures: Secrets Manager's part (recording RotateSecret) and the vendor.
requested = test_rotation.requested
vendor = test_rotation.vendor


def rotate(client: ApiClient, credential_id: str, key: str) -> Reply:
    body: dict[str, Any] = {"credentialId": credential_id, "reason": "Manual", "credentials": {"token": NEW}}
    return client.post("/integrations/credentials/rotate", body, headers={"Idempotency-Key": key})


def drive_each(triggered: list[tuple[str, str]], driven: set[str] | None = None) -> None:
    """Secrets Manager runs the steps once per token it was asked to rotate with, however often it was asked
    (``driven``: the tokens whose steps already ran)."""
    done = driven if driven is not None else set()
    for secret_id, token in dict.fromkeys(triggered):
        if token not in done:
            drive(secret_id, token)
            done.add(token)


def test_the_record_failing_to_save_after_the_trigger_then_the_repeat_is_the_same_rotation_verified_once(
    client: ApiClient, vendor: FakeVendor, requested: list[tuple[str, str]], tenant: str
) -> None:
    connection = setup(client, vendor)
    with record_not_saved() as refused:
        first = rotate(client, connection["credentialId"], "rotate-once")
    assert refused and first.status == 202, first.body
    again = rotate(client, connection["credentialId"], "rotate-once")
    assert again.status == 202, again.body  # not 409 "already in progress": it is this very rotation
    assert again.header("Idempotent-Replayed") == "true"
    same = ("verificationRunId", "newVersionRef", "credentialId")
    assert {k: again.json[k] for k in same} == {k: first.json[k] for k in same}
    assert len(set(requested)) == 1  # asked again with the same token: no step had run yet
    vendor.expect_bearer(NEW)
    drive_each(requested)
    [(secret_id, token)] = set(requested)
    assert value(secret_id, CURRENT) == f'{{"token": "{NEW}"}}'
    assert len(vendor.api_requests()) == 1
    state = store.get(tenant, connection["credentialId"])
    assert state is not None and state.token == token and state.status == "Rotated"
    assert (
        rotate(client, connection["credentialId"], "rotate-once").json["verificationRunId"]
        == (first.json["verificationRunId"])
    )


def test_a_request_dying_after_any_aws_call_then_repeated_makes_one_rotation_and_one_verification(
    client: ApiClient, vendor: FakeVendor, requested: list[tuple[str, str]], tenant: str
) -> None:
    connection = setup(client, vendor)
    vendor.expect_bearer(NEW)

    driven: set[str] = set()

    def attempt(key: str) -> Reply:
        return rotate(client, connection["credentialId"], key)

    def repeat(key: str) -> Reply:
        drive_each(requested, driven)  # Secrets Manager (not the dead API Lambda) ran what it was asked for
        reply = attempt(key)
        drive_each(requested, driven)
        return reply

    keys, repeats = crash_then_repeat(attempt, "rotate-crash", repeat)
    drive_each(requested, driven)  # the last request was not repeated: it ran to the end
    assert len(repeats) >= 5  # the reads, the claim, the supplied value, the run, the trigger
    for key, reply in repeats:
        assert reply.status == 202, (key, reply.body)
    tokens = {token for _, token in requested}
    assert len(tokens) == len(keys)  # one rotation per key, however often its trigger was repeated
    assert len(vendor.api_requests()) == len(keys)  # and one verification each
    state = store.get(tenant, connection["credentialId"])
    assert state is not None and state.status == "Rotated"


def test_keyed_rotations_retried_through_heavy_aws_faults_rotate_once_each(
    client: ApiClient, vendor: FakeVendor, requested: list[tuple[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Half of DynamoDB's and Secrets Manager's HTTP attempts fail (seeded): a client repeating each keyed rotation
    on 503 and 409 gets one rotation per key, each verified once, and never a 500."""
    connection = setup(client, vendor)
    vendor.expect_bearer(NEW)
    driven: set[str] = set()
    seen: Counter[int] = Counter()
    monkeypatch.setattr("botocore.retries.standard.ExponentialBackoff.delay_amount", lambda *_: 0)
    seeds = iter(range(400, 10_000))
    for n in range(5):
        for _ in range(50):  # each attempt faulted with its own seed; the test's own reads and steps are not
            monkeypatch.setenv(faults.SPEC_VARIABLE, "dynamodb=0.5,secretsmanager=0.5")
            monkeypatch.setenv(faults.SEED_VARIABLE, str(next(seeds)))
            aws.reset_clients()
            reply = rotate(client, connection["credentialId"], f"faulty-{n}")
            monkeypatch.delenv(faults.SPEC_VARIABLE)
            aws.reset_clients()
            seen[reply.status] += 1
            if reply.status == 202:
                break
            assert reply.status in (409, 503), reply.body
            assert reply.header("Retry-After") == "1"
            if reply.status == 409:
                expire_in_progress()
        drive_each(requested, driven)  # Secrets Manager runs what it was asked for
    print(f"\nkeyed rotations under dynamodb=0.5,secretsmanager=0.5: answers by status {dict(sorted(seen.items()))}")
    assert seen[202] == 5 and len(driven) == 5  # one token per key
    assert len(vendor.api_requests()) == 5
