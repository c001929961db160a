"""The operations API: catalog, 202 + Location, validation before queueing, idempotency, cancel, list."""

from __future__ import annotations

import json

from chalicelib.connections import store as connections
from chalicelib.runs import store
from chalicelib.runs.models import RunStatus
from chalicelib.runs.queue import RunMessage
from infra.local.dev_issuer import DevIssuer
from infra.local.gateway import LocalApi
from tests.api.expect import client_for, error_of, fields_of
from tests.support.api_client import ApiClient
from tests.support.run_driver import connect, receive, runs_queue, start

VENDOR = "http://127.0.0.1:9"  # never called: nothing here runs the worker
PR = {"owner": "octo", "repo": "hello", "title": "Add", "head": "feature", "base": "main"}


def queued_run_ids(tenant: str) -> list[str]:
    return [RunMessage.model_validate_json(m["Body"]).run_id for m in receive(runs_queue(), tenant, visibility=60)]


def test_catalog_lists_the_providers_operations_with_schemas(client: ApiClient) -> None:
    connection_id = connect(client, VENDOR, provider_id="prov-github")
    reply = client.get(f"/integrations/connections/{connection_id}/operations")
    assert reply.status == 200, reply.body
    body = reply.json
    assert body["connectionId"] == connection_id and body["providerId"] == "prov-github" and body["traceId"]
    operations = {item["id"]: item for item in body["items"]}
    assert set(operations) == {"OpenPullRequest", "GetRepository", "ListIssues", "CreateIssue"}
    pull = operations["OpenPullRequest"]
    assert set(pull) == {"id", "name", "description", "parameters", "resultSchema", "idempotent"}
    assert set(pull["parameters"]["required"]) == {"owner", "repo", "title", "head", "base"}
    error_of(client.get("/integrations/connections/conn-missing/operations"), 404, "RESOURCE_NOT_FOUND")


def test_execute_answers_202_with_location_and_queues_the_run(client: ApiClient, tenant: str) -> None:
    connection_id = connect(client, VENDOR, provider_id="prov-github")
    reply = client.post(f"/integrations/connections/{connection_id}/operations/OpenPullRequest", {"parameters": PR})
    assert reply.status == 202, reply.body
    run = reply.json
    assert run["status"] == "Pending" and run["attempts"] == 0 and run["runId"].startswith("run-")
    assert (run["connectionId"], run["operation"], run["tenantId"]) == (connection_id, "OpenPullRequest", tenant)
    assert run["traceId"] == reply.header("X-Trace-Id")
    assert reply.header("Location") == f"/integrations/runs/{run['runId']}"
    assert queued_run_ids(tenant) == [run["runId"]]
    polled = client.get(reply.header("Location") or "")
    assert polled.status == 200 and polled.json["status"] == "Pending" and polled.json["parameters"] == PR


def test_invalid_parameters_are_422_with_field_details_and_nothing_is_queued(client: ApiClient, tenant: str) -> None:
    connection_id = connect(client, VENDOR, provider_id="prov-github")
    path = f"/integrations/connections/{connection_id}/operations/OpenPullRequest"
    error = error_of(
        client.post(path, {"parameters": {"owner": "octo", "title": 5}}), 422, "PARAMETER_VALIDATION_ERROR"
    )
    assert {"parameters.repo", "parameters.title", "parameters.head", "parameters.base"} <= fields_of(error)
    assert queued_run_ids(tenant) == []
    listed = client.get(f"/integrations/runs?connectionId={connection_id}")
    assert listed.json["items"] == []


def test_unknown_operation_connection_and_inactive_connection(client: ApiClient, tenant: str) -> None:
    connection_id = connect(client, VENDOR, provider_id="prov-slack")
    base = f"/integrations/connections/{connection_id}/operations"
    error = error_of(client.post(f"{base}/OpenPullRequest", {"parameters": PR}), 404, "OPERATION_NOT_FOUND")
    assert "PostMessage" in error["message"]
    error_of(
        client.post("/integrations/connections/conn-nope/operations/PostMessage", {"parameters": {}}),
        404,
        "RESOURCE_NOT_FOUND",
    )
    connections.TABLE.update(tenant, connection_id, {"status": "Inactive"})
    error_of(client.post(f"{base}/PostMessage", {"parameters": {"channel": "C1", "text": "hi"}}), 409, "CONFLICT")


def test_another_tenant_cannot_see_or_use_the_connection(
    client: ApiClient, local_api: LocalApi, issuer: DevIssuer
) -> None:
    connection_id = connect(client, VENDOR, provider_id="prov-github")
    run = start(client, connection_id, "GetRepository", {"owner": "o", "repo": "r"})
    other = client_for(local_api, issuer)
    error_of(other.get(f"/integrations/connections/{connection_id}/operations"), 404, "RESOURCE_NOT_FOUND")
    error_of(
        other.post(
            f"/integrations/connections/{connection_id}/operations/GetRepository",
            {"parameters": {"owner": "o", "repo": "r"}},
        ),
        404,
        "RESOURCE_NOT_FOUND",
    )
    error_of(other.post(f"/integrations/runs/{run['runId']}/cancel"), 404, "RESOURCE_NOT_FOUND")


def test_idempotency_key_returns_the_same_run_and_refuses_other_parameters(client: ApiClient, tenant: str) -> None:
    connection_id = connect(client, VENDOR, provider_id="prov-github")
    first = start(client, connection_id, "OpenPullRequest", PR, key="pr-42")
    path = f"/integrations/connections/{connection_id}/operations/OpenPullRequest"
    again = client.post(path, {"parameters": PR}, headers={"Idempotency-Key": "pr-42"})
    assert again.status == 202 and again.json["runId"] == first["runId"]
    assert again.header("Idempotent-Replayed") == "true"
    changed = client.post(path, {"parameters": {**PR, "title": "Other"}}, headers={"Idempotency-Key": "pr-42"})
    error_of(changed, 422, "IDEMPOTENCY_KEY_REUSED")
    other_key = start(client, connection_id, "OpenPullRequest", PR, key="pr-43")
    assert other_key["runId"] != first["runId"]
    # A replay answers from the idempotency record: the run is queued once.
    assert sorted(queued_run_ids(tenant)) == sorted([first["runId"], other_key["runId"]])
    error_of(client.post(path, {"parameters": PR}, headers={"Idempotency-Key": "x" * 300}), 400, "VALIDATION_ERROR")


def test_cancel_only_while_pending(client: ApiClient, tenant: str) -> None:
    connection_id = connect(client, VENDOR, provider_id="prov-github")
    run = start(client, connection_id, "GetRepository", {"owner": "o", "repo": "r"})
    cancelled = client.post(f"/integrations/runs/{run['runId']}/cancel")
    assert cancelled.status == 200, cancelled.body
    assert cancelled.json["status"] == "Cancelled" and cancelled.json["completedAt"]
    assert client.post(f"/integrations/runs/{run['runId']}/cancel").json["status"] == "Cancelled"
    running = start(client, connection_id, "GetRepository", {"owner": "o", "repo": "r"})
    assert store.transition(tenant, running["runId"], {"status": "Running"}, from_status=RunStatus.PENDING)
    error_of(client.post(f"/integrations/runs/{running['runId']}/cancel"), 409, "CONFLICT")
    error_of(client.post("/integrations/runs/run-nope/cancel"), 404, "RESOURCE_NOT_FOUND")


def test_list_runs_by_connection_and_status_with_a_cursor(client: ApiClient) -> None:
    connection_id = connect(client, VENDOR, provider_id="prov-github")
    other_connection = connect(client, VENDOR, provider_id="prov-github")
    ids = [start(client, connection_id, "GetRepository", {"owner": "o", "repo": f"r{i}"})["runId"] for i in range(3)]
    start(client, other_connection, "GetRepository", {"owner": "o", "repo": "x"})
    client.post(f"/integrations/runs/{ids[0]}/cancel")
    seen: list[str] = []
    cursor = None
    while True:
        query = f"/integrations/runs?connectionId={connection_id}&limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(query)
        assert page.status == 200, page.body
        seen += [item["runId"] for item in page.json["items"]]
        cursor = page.json.get("nextCursor")
        if not cursor:
            break
    assert sorted(seen) == sorted(ids)
    pending = client.get(f"/integrations/runs?connectionId={connection_id}&status=Pending").json["items"]
    assert sorted(item["runId"] for item in pending) == sorted(ids[1:])
    everything = client.get("/integrations/runs?limit=100").json["items"]
    assert len(everything) == 4
    cancelled = client.get("/integrations/runs?status=Cancelled").json["items"]
    assert [item["runId"] for item in cancelled] == [ids[0]]
    foreign = client.get(f"/integrations/runs?connectionId={other_connection}&limit=1").json
    error_of(
        client.get(f"/integrations/runs?connectionId={connection_id}&cursor={foreign.get('nextCursor') or 'x'}"),
        400,
        "VALIDATION_ERROR",
    )
    error_of(client.get("/integrations/runs?status=Nope"), 400, "VALIDATION_ERROR")


def test_queue_message_names_only_the_run() -> None:
    message = RunMessage(tenant_id="t", run_id="run-1", trace_id="trace-1")
    assert json.loads(message.model_dump_json(by_alias=True)) == {
        "tenantId": "t",
        "runId": "run-1",
        "traceId": "trace-1",
    }
