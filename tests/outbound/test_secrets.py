"""Signing secrets are read from Secrets Manager once per reference, however many records of a batch need one."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from chalicelib.core import aws
from tests.outbound.conftest import QueueDriver
from tests.outbound.helpers import publish, subscribe
from tests.support.api_client import ApiClient
from tests.support.receiver import serve_receiver

HOLD_SECONDS = 0.5


@contextmanager
def slow_secret_reads() -> Iterator[list[str]]:
    """A slow Secrets Manager: the first GetSecretValue is held until a second one starts (or half a second
    passes), so every record of a batch asks for the secret while the first read is still under way.
    Lists the secrets read."""
    read: list[str] = []
    second = threading.Event()

    def hold(params: dict[str, Any], **_: Any) -> None:
        read.append(str(params["SecretId"]))
        if len(read) == 1:
            second.wait(HOLD_SECONDS)  # the injected slowness, not a wait for the test's outcome
        else:
            second.set()

    hooks = aws.secretsmanager().meta.events
    hooks.register("before-parameter-build.secrets-manager.GetSecretValue", hold, unique_id="slow-secret-reads")
    try:
        yield read
    finally:
        hooks.unregister("before-parameter-build.secrets-manager.GetSecretValue", unique_id="slow-secret-reads")


def test_records_of_one_subscription_in_one_batch_read_its_secret_once(client: ApiClient, driver: QueueDriver) -> None:
    with serve_receiver() as receiver:
        subscribe(client, receiver, ["*"])  # its secret never read yet: a cold cache
        sent = {publish(client, "OrderShipped", {"order": n})["eventId"] for n in range(4)}
        # this test's four (the worker's dispatch queue may also hold a message another test left behind)
        messages = [m for m in driver.receive() if json.loads(m["Body"])["eventId"] in sent]
        assert len(messages) == 4
        with slow_secret_reads() as read:
            driver.invoke(messages)  # four records at once, on the dispatcher's pool
        assert receiver.accepted_ids == sent and receiver.verification_errors == []
        assert len(read) == 1, read
