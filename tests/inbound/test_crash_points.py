"""Ingest killed after any of its AWS calls: the vendor's retry finds nothing or the one item, never half of it.

``crash_points`` runs the request once per AWS call it makes, killing it right
after that call (as a Lambda timeout would); the vendor sees no answer and
sends the delivery again. After each crash there is no event or exactly one,
and the retry ends with exactly one event and the delivery ``Processed``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from chalicelib.core.config import get_settings
from chalicelib.inbound import service
from chalicelib.inbound import store as deliveries
from tests.inbound import signers
from tests.inbound.conftest import Hook, json_bytes, post_delivery
from tests.support.api_client import ApiClient
from tests.support.aws_calls import refusing
from tests.support.crashes import each_crash
from tests.support.events import recorded


def test_ingest_killed_after_any_call_is_retried_to_exactly_one_event(
    connect: Callable[..., Hook], tenant: str
) -> None:
    hook = connect("prov-github")
    body = json_bytes({"action": "opened", "issue": {"number": 5}})
    delivery = str(uuid.uuid4())

    def ingest() -> service.Outcome:
        signed = {"X-GitHub-Event": "issues", "X-GitHub-Delivery": delivery, **signers.github(hook.secret, body)}
        inbound = service.Inbound(hook.connection_id, signed, body, envelope=False, url="")
        return service.ingest(inbound)

    def agree(crash: int) -> None:
        assert len(recorded(tenant, "IssueOpened")) <= 1, crash

    crashes = each_crash(ingest, agree)
    assert crashes >= 1
    retried = ingest()  # the vendor's retry after the last crash
    assert retried.status in {200, 202}
    delivery_id = service.delivery_id_for(tenant, hook.connection_id, delivery)
    stored = deliveries.get(tenant, delivery_id)
    assert stored is not None and stored.status.value == "Processed"
    assert [e["eventId"] for e in recorded(tenant, "IssueOpened")] == [stored.event_id]
    assert stored.expires_at is not None and stored.expires_at > time.time()


def test_a_throttled_put_is_a_503_the_vendor_retries_into_one_event(
    client: ApiClient, connect: Callable[..., Hook], tenant: str
) -> None:
    hook = connect("prov-github")
    body = json_bytes({"action": "opened", "issue": {"number": 6}})
    headers = {"X-GitHub-Event": "issues", "X-GitHub-Delivery": "throttled-1", **signers.github(hook.secret, body)}
    events_table = get_settings().table_name("events")
    with refusing(events_table, operations=frozenset({"PutItem"}), code="ProvisionedThroughputExceededException"):
        refused = post_delivery(client, hook.connection_id, body, headers)
    assert refused.status == 503 and refused.header("Retry-After"), refused.body
    assert recorded(tenant, "IssueOpened") == []  # nothing half-written: no item, no event
    retried = post_delivery(client, hook.connection_id, body, headers)
    assert retried.status == 202, retried.body
    assert len(recorded(tenant, "IssueOpened")) == 1
