"""A handler that dies between any two of its AWS calls leaves state and event together, and its retry finishes.

``crash_points`` runs the operation once per AWS call it makes, killing it
right after that call (as a Lambda timeout or out-of-memory would). After each
crash the state and its events must agree: either the change happened with
exactly one event, or neither did. Then the retry (the client's, or SQS's
redelivery) must reach the final state with exactly one event.
"""

from __future__ import annotations

import contextlib

from chalicelib.connections import lifecycle, store
from chalicelib.connections.models import ConnectionStatus
from chalicelib.core.errors import Conflict
from tests.support.api_client import ApiClient
from tests.support.crashes import each_crash
from tests.support.events import recorded


def create(client: ApiClient) -> str:
    created = client.post(
        "/integrations/connections",
        {"providerId": "prov-github", "displayName": "gh", "credentials": {"token": "ghp_x"}},
    )
    assert created.status == 201, created.body
    return str(created.json["connectionId"])


def count(tenant: str, event_type: str) -> int:
    return len(recorded(tenant, event_type))


def test_lifecycle_changes_killed_after_any_call_keep_state_and_event_together(client: ApiClient, tenant: str) -> None:
    connection_id = create(client)

    def toggle() -> None:
        current = store.get(tenant, connection_id)
        assert current is not None
        target = ConnectionStatus.INACTIVE if current.status == ConnectionStatus.ACTIVE else ConnectionStatus.ACTIVE
        with contextlib.suppress(Conflict):  # a retry that finds the change made
            lifecycle.set_status(tenant, connection_id, target)

    def agree(crash: int) -> None:
        connection = store.get(tenant, connection_id)
        assert connection is not None
        off, on = count(tenant, "ConnectionDeactivated"), count(tenant, "ConnectionActivated")
        # Every change that stands has its event, and no event announces a change that did not happen.
        expected = ConnectionStatus.INACTIVE if off > on else ConnectionStatus.ACTIVE
        assert connection.status == expected, (crash, off, on)

    crashes = each_crash(toggle, agree)
    assert crashes >= 2  # it reads, then commits: both were crash points
