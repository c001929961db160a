"""The client against the local runtime over real HTTP: creates, paging, runs, errors, API keys."""

from __future__ import annotations

import pytest
from integration_platform import AuthenticationError, Client, NotFoundError, PermissionDeniedError, RetryPolicy
from integration_platform.models import CreateScheduleRequest

from tests.e2e.conftest import LocalRuntime
from tests.sdk.conftest import github_connection
from tests.support.fake_vendor import FakeVendor
from tests.support.waiting import WAIT_SECONDS

PR = {"owner": "octo", "repo": "hello", "title": "Add feature", "head": "feature", "base": "main", "body": "Why."}


def test_create_then_get_a_connection(client: Client, vendor: FakeVendor) -> None:
    created = client.create_connection(github_connection(vendor))
    fetched = client.get_connection(created["connectionId"])
    assert fetched["providerId"] == "prov-github"
    assert fetched["status"] == "Active"


def test_a_repeated_create_with_the_same_key_is_one_connection(client: Client, vendor: FakeVendor) -> None:
    body = github_connection(vendor)
    first = client.create_connection(body, idempotency_key="sdk-same")
    again = client.create_connection(body, idempotency_key="sdk-same")
    other = client.create_connection(body)
    assert first["connectionId"] == again["connectionId"] != other["connectionId"]


def test_iterating_follows_next_cursor_across_pages(client: Client, vendor: FakeVendor) -> None:
    created = {client.create_connection(github_connection(vendor, f"c{i}"))["connectionId"] for i in range(5)}
    first_page = client.list_connections(limit=2)
    assert len(first_page["items"]) == 2 and first_page.get("nextCursor")
    assert {item["connectionId"] for item in client.iter_connections(page_size=2)} == created


def test_providers_iterate_across_built_ins_and_pages(client: Client) -> None:
    everything = [item["providerId"] for item in client.iter_providers(page_size=100)]
    paged = [item["providerId"] for item in client.iter_providers(page_size=3)]
    assert paged == everything and "prov-github" in paged


def test_a_run_is_started_and_waited_for(client: Client, vendor: FakeVendor) -> None:
    connection = client.create_connection(github_connection(vendor))
    run = client.execute_operation(connection["connectionId"], "OpenPullRequest", PR)
    assert run["status"] == "Pending"
    seen: list[str] = []
    done = client.wait_for_run(
        run["runId"], timeout=WAIT_SECONDS, interval=0.2, on_poll=lambda r: seen.append(r["status"])
    )
    assert done["status"] == "Completed", done
    assert seen[-1] == "Completed"
    assert [item["runId"] for item in client.iter_runs(connection_id=connection["connectionId"])] == [run["runId"]]


def test_a_missing_resource_is_a_typed_not_found_with_code_and_trace(client: Client) -> None:
    with pytest.raises(NotFoundError) as raised:
        client.get_connection("conn-does-not-exist")
    assert raised.value.status == 404
    assert raised.value.code == "RESOURCE_NOT_FOUND"
    assert raised.value.trace_id and raised.value.trace_id.startswith("trace-")
    assert raised.value.message


def test_a_bad_token_is_an_authentication_error(local_runtime: LocalRuntime) -> None:
    with pytest.raises(AuthenticationError) as raised:
        Client(local_runtime.base_url, token="not-a-token").list_connections()
    assert raised.value.code == "AUTHENTICATION_FAILED"


def test_api_key_auth_and_its_scopes(client: Client, local_runtime: LocalRuntime) -> None:
    created = client.create_api_key({"name": "sdk-test", "scopes": ["integration.providers.read"]})
    with_key = Client(local_runtime.base_url, api_key=created["apiKey"], retry=RetryPolicy(attempts=1))
    assert any(item["providerId"] == "prov-github" for item in with_key.iter_providers())
    with pytest.raises(PermissionDeniedError):
        with_key.list_connections()
    assert created["apiKeyId"] in {item["apiKeyId"] for item in client.iter_api_keys(page_size=1)}
    client.revoke_api_key(created["apiKeyId"])
    with pytest.raises(AuthenticationError):
        with_key.list_providers()


def test_a_json_rpc_message_reaches_the_mcp_server(client: Client, vendor: FakeVendor) -> None:
    client.create_connection(github_connection(vendor))
    answer = client.mcp_endpoint({"jsonrpc": "2.0", "id": 7, "method": "tools/list"})
    assert answer["id"] == 7
    assert any(tool["name"].startswith("github") for tool in answer["result"]["tools"]), answer


def test_metrics_count_what_the_tenant_did(client: Client, vendor: FakeVendor) -> None:
    connection_id = client.create_connection(github_connection(vendor))["connectionId"]
    client.test_connection(connection_id)
    series = client.get_metrics(connection_id=connection_id, granularity="hour")
    assert series["connectionId"] == connection_id
    assert sum(point["calls"]["total"] for point in series["points"]) >= 1


def test_a_schedule_is_created_paused_resumed_listed_and_deleted(client: Client, vendor: FakeVendor) -> None:
    connection_id = client.create_connection(github_connection(vendor))["connectionId"]
    request: CreateScheduleRequest = {
        "operation": "GetRepository",
        "parameters": {"owner": "octo", "repo": "hello"},
        "rate": "1 day",
    }
    created = client.create_schedule(connection_id, request)
    schedule_id = created["scheduleId"]
    assert client.pause_schedule(connection_id, schedule_id)["state"] == "Paused"
    assert client.resume_schedule(connection_id, schedule_id)["state"] == "Enabled"
    assert [s["scheduleId"] for s in client.iter_schedules(connection_id, page_size=1)] == [schedule_id]
    assert client.delete_schedule(connection_id, schedule_id)["deleted"] is True
    with pytest.raises(NotFoundError):
        client.get_schedule(connection_id, schedule_id)
