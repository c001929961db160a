"""A state change and its event are one transaction: neither exists without the other.

Each test makes the event's write fail at the AWS boundary (the events table
is part of every such write) and checks that the state did not change either,
so the caller's retry applies it and the event once. Before the outbox the
state was written first and the event after: the failure left the change
standing with no event, and the retry answered 409/404 and sent nothing.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

import pytest

from chalicelib.core.config import get_settings
from chalicelib.events import store as events
from tests.support.api_client import ApiClient
from tests.support.aws_calls import refusing

BASE = "/integrations/connections"


def events_table_down() -> AbstractContextManager[list[str]]:
    """Every call that touches the events table fails, as a throttled or failing DynamoDB would."""
    return refusing(get_settings().table_name("events"))


def types(tenant: str) -> list[str]:
    return sorted(item["type"] for item in events.TABLE.query(tenant, limit=100, cursor=None).items)


def create(client: ApiClient) -> str:
    created = client.post(BASE, {"providerId": "prov-github", "displayName": "gh", "credentials": {"token": "ghp_x"}})
    assert created.status == 201, created.body
    return str(created.json["connectionId"])


def test_a_failed_create_leaves_no_connection_and_no_event(client: ApiClient, tenant: str) -> None:
    with events_table_down() as refused:
        failed = client.post(BASE, {"providerId": "prov-github", "displayName": "gh", "credentials": {"token": "t"}})
    assert failed.status >= 500 and refused
    assert client.get(BASE).json["items"] == [] and types(tenant) == []
    create(client)
    assert types(tenant) == ["ConnectionCreated"]


@pytest.mark.parametrize(
    ("action", "before", "after", "event"),
    [
        ("deactivate", "Active", "Inactive", "ConnectionDeactivated"),
        ("activate", "Inactive", "Active", "ConnectionActivated"),
    ],
)
def test_a_status_change_whose_event_fails_did_not_happen(
    client: ApiClient, tenant: str, action: str, before: str, after: str, event: str
) -> None:
    connection_id = create(client)
    if before == "Inactive":
        assert client.post(f"{BASE}/{connection_id}/deactivate").status == 200
    with events_table_down() as refused:
        failed = client.post(f"{BASE}/{connection_id}/{action}")
    assert failed.status >= 500 and refused
    assert client.get(f"{BASE}/{connection_id}").json["status"] == before
    retried = client.post(f"{BASE}/{connection_id}/{action}")
    assert retried.status == 200 and client.get(f"{BASE}/{connection_id}").json["status"] == after
    assert types(tenant).count(event) == 1


def test_an_update_whose_event_fails_did_not_happen(client: ApiClient, tenant: str) -> None:
    connection_id = create(client)
    with events_table_down():
        failed = client.request("PATCH", f"{BASE}/{connection_id}", json_body={"displayName": "Renamed"})
    assert failed.status >= 500
    assert client.get(f"{BASE}/{connection_id}").json["displayName"] == "gh"
    assert "ConnectionUpdated" not in types(tenant)
    assert client.request("PATCH", f"{BASE}/{connection_id}", json_body={"displayName": "Renamed"}).status == 200
    assert types(tenant).count("ConnectionUpdated") == 1


def test_a_delete_whose_event_fails_did_not_happen(client: ApiClient, tenant: str) -> None:
    connection_id = create(client)
    with events_table_down():
        failed = client.request("DELETE", f"{BASE}/{connection_id}")
    assert failed.status >= 500
    assert client.get(f"{BASE}/{connection_id}").status == 200
    assert client.request("DELETE", f"{BASE}/{connection_id}").status == 200
    assert client.get(f"{BASE}/{connection_id}").status == 404
    assert types(tenant).count("ConnectionDeleted") == 1
