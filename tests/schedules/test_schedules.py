"""Schedules over the API (moto's EventBridge Scheduler), their firings through the runs worker, and what a
connection's lifecycle does to them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.auth.principal import ALL_SCOPES
from chalicelib.core import aws
from chalicelib.events import store as events
from chalicelib.runs import store as runs
from chalicelib.schedules import firing, scheduler
from infra.local.dev_issuer import DevIssuer
from tests.api.expect import error_of, fields_of
from tests.runs.conftest import run_of
from tests.support.api_client import ApiClient
from tests.support.fake_vendor import FakeVendor
from tests.support.run_driver import connect, deliver, runs_queue

REPO = {"owner": "octo", "repo": "hello"}
WHEN = "2026-11-28T09:00:00Z"


def schedules_of(connection_id: str) -> str:
    return f"/integrations/connections/{connection_id}/schedules"


def create(client: ApiClient, connection_id: str, **fields: Any) -> dict[str, Any]:
    body = {"operation": "GetRepository", "parameters": REPO, "rate": "5 minutes", **fields}
    reply = client.post(schedules_of(connection_id), body)
    assert reply.status == 201, reply.body
    return dict(reply.json)


def in_scheduler(schedule_id: str) -> dict[str, Any]:
    return dict(aws.scheduler().get_schedule(Name=scheduler.name_of(schedule_id)))


def fire(tenant: str, schedule: dict[str, Any], at: str = WHEN) -> None:
    """What Scheduler sends: the target input with ``<aws.scheduler.scheduled-time>`` filled in."""
    body = in_scheduler(schedule["scheduleId"])["Target"]["Input"].replace(scheduler.SCHEDULED_TIME, at)
    assert json.loads(body)["tenantId"] == tenant
    aws.sqs().send_message(QueueUrl=runs_queue(), MessageBody=body)


@pytest.fixture
def connection_id(client: ApiClient, vendor: FakeVendor) -> str:
    return connect(client, vendor.url, provider_id="prov-github")


def test_a_schedule_is_an_eventbridge_schedule_targeting_the_runs_queue(
    client: ApiClient, tenant: str, connection_id: str
) -> None:
    created = create(client, connection_id, rate="10 minutes", description="nightly-ish")
    assert created["state"] == "Enabled" and created["rate"] == "10 minutes" and created["timezone"] == "UTC"
    remote = in_scheduler(created["scheduleId"])
    assert remote["ScheduleExpression"] == "rate(10 minutes)" and remote["State"] == "ENABLED"
    assert remote["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 5}
    assert remote["Target"]["Arn"] == scheduler.runs_queue_arn()
    assert remote["Target"]["RetryPolicy"] == scheduler.RETRY_POLICY
    assert json.loads(remote["Target"]["Input"]) == {
        "tenantId": tenant,
        "connectionId": connection_id,
        "scheduleId": created["scheduleId"],
        "operation": "GetRepository",
        "scheduledTime": "<aws.scheduler.scheduled-time>",
    }
    assert client.get(f"{schedules_of(connection_id)}/{created['scheduleId']}").json["parameters"] == REPO
    assert [s["scheduleId"] for s in client.get(schedules_of(connection_id)).json["items"]] == [created["scheduleId"]]
    recorded = events.TABLE.query(tenant, limit=100, cursor=None).items
    assert "ScheduleCreated" in [e["type"] for e in recorded]


def test_a_cron_in_a_time_zone(client: ApiClient, connection_id: str) -> None:
    created = create(client, connection_id, rate=None, cron="0 9 ? * MON-FRI *", timezone="Europe/Paris")
    remote = in_scheduler(created["scheduleId"])
    assert (remote["ScheduleExpression"], remote["ScheduleExpressionTimezone"]) == (
        "cron(0 9 ? * MON-FRI *)",
        "Europe/Paris",
    )


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"rate": "5 minute"}, "rate"),
        ({"rate": "0 minutes"}, "rate"),
        ({"rate": "often"}, "rate"),
        ({"rate": None, "cron": "0 9 * * MON *"}, "cron"),
        ({"rate": None, "cron": "0 9 * *"}, "cron"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"cron": "0 9 ? * MON *"}, "body"),
    ],
)
def test_bad_schedules_are_a_400_naming_the_field_and_create_nothing(
    client: ApiClient, connection_id: str, fields: dict[str, Any], field: str
) -> None:
    body = {"operation": "GetRepository", "parameters": REPO, "rate": "5 minutes", **fields}
    error = error_of(client.post(schedules_of(connection_id), body), 400, "VALIDATION_ERROR")
    assert field in fields_of(error) or field == "body", error
    assert client.get(schedules_of(connection_id)).json["items"] == []


def test_bad_parameters_an_unknown_operation_or_connection_are_refused(client: ApiClient, connection_id: str) -> None:
    half = {"operation": "GetRepository", "parameters": {"owner": "octo"}, "rate": "5 minutes"}
    error = error_of(client.post(schedules_of(connection_id), half), 422, "PARAMETER_VALIDATION_ERROR")
    assert "parameters.repo" in fields_of(error)  # as the operation route answers
    unknown = client.post(schedules_of(connection_id), {"operation": "Nope", "rate": "5 minutes"})
    assert unknown.status in {400, 404} and unknown.status != 500
    error_of(
        client.post(schedules_of("conn-000000000000"), {"operation": "GetRepository", "rate": "1 day"}),
        404,
        "RESOURCE_NOT_FOUND",
    )


def test_pause_resume_delete(client: ApiClient, connection_id: str) -> None:
    schedule_id = create(client, connection_id)["scheduleId"]
    path = f"{schedules_of(connection_id)}/{schedule_id}"
    paused = client.post(f"{path}/pause", {})
    assert paused.status == 200 and paused.json["state"] == "Paused" and paused.json["pausedBy"] == "Caller"
    assert in_scheduler(schedule_id)["State"] == "DISABLED"
    assert client.post(f"{path}/pause", {}).json["state"] == "Paused"  # repeat: no-op
    resumed = client.post(f"{path}/resume", {})
    assert resumed.json["state"] == "Enabled" and "pausedBy" not in resumed.json
    assert in_scheduler(schedule_id)["State"] == "ENABLED"
    assert client.request("DELETE", path).json["deleted"] is True
    error_of(client.get(path), 404, "RESOURCE_NOT_FOUND")
    with pytest.raises(aws.scheduler().exceptions.ResourceNotFoundException):
        in_scheduler(schedule_id)


def test_each_firing_is_one_run_carrying_the_schedule_even_when_delivered_twice(
    client: ApiClient, tenant: str, connection_id: str, vendor: FakeVendor, handler: Any
) -> None:
    schedule = create(client, connection_id)
    fire(tenant, schedule)
    fire(tenant, schedule)  # Scheduler's at-least-once delivery
    fire(tenant, schedule, at="2026-11-28T09:05:00Z")
    messages, failed = deliver(handler, runs_queue(), tenant)
    assert len(messages) == 3 and failed == set()
    first = run_of(tenant, firing.run_id_for(schedule["scheduleId"], WHEN))
    second = run_of(tenant, firing.run_id_for(schedule["scheduleId"], "2026-11-28T09:05:00Z"))
    for run in (first, second):
        assert (run.status.value, run.schedule_id, run.parameters) == ("Completed", schedule["scheduleId"], REPO)
    assert len(vendor.api_requests()) == 2
    listed = client.get(f"/integrations/runs?connectionId={connection_id}").json["items"]
    assert sorted(r["runId"] for r in listed) == sorted([first.run_id, second.run_id])
    latest = client.get(f"{schedules_of(connection_id)}/{schedule['scheduleId']}").json
    assert latest["lastRunId"] in {first.run_id, second.run_id}


def test_a_firing_of_a_paused_or_deleted_schedule_makes_no_run(
    client: ApiClient, tenant: str, connection_id: str, handler: Any
) -> None:
    paused, deleted = create(client, connection_id), create(client, connection_id)
    fire(tenant, paused)  # as if Scheduler fired just before the pause reached it
    fire(tenant, deleted)
    client.post(f"{schedules_of(connection_id)}/{paused['scheduleId']}/pause", {})
    client.request("DELETE", f"{schedules_of(connection_id)}/{deleted['scheduleId']}")
    messages, failed = deliver(handler, runs_queue(), tenant)
    assert len(messages) == 2 and failed == set()
    for schedule in (paused, deleted):
        assert runs.get(tenant, firing.run_id_for(schedule["scheduleId"], WHEN)) is None


def test_deactivation_pauses_reactivation_resumes_only_its_own_pauses_and_deletion_removes(
    client: ApiClient, connection_id: str
) -> None:
    mine, its = create(client, connection_id), create(client, connection_id)
    client.post(f"{schedules_of(connection_id)}/{mine['scheduleId']}/pause", {})
    assert client.post(f"/integrations/connections/{connection_id}/deactivate", {}).status == 200
    states = {
        s["scheduleId"]: (s["state"], s.get("pausedBy")) for s in client.get(schedules_of(connection_id)).json["items"]
    }
    assert states == {mine["scheduleId"]: ("Paused", "Caller"), its["scheduleId"]: ("Paused", "Connection")}
    assert in_scheduler(its["scheduleId"])["State"] == "DISABLED"
    refused = client.post(f"{schedules_of(connection_id)}/{its['scheduleId']}/resume", {})
    error_of(refused, 409, "CONFLICT")
    assert client.post(f"/integrations/connections/{connection_id}/activate", {}).status == 200
    after = {s["scheduleId"]: s["state"] for s in client.get(schedules_of(connection_id)).json["items"]}
    assert after == {mine["scheduleId"]: "Paused", its["scheduleId"]: "Enabled"}
    assert client.request("DELETE", f"/integrations/connections/{connection_id}").status == 200
    for schedule in (mine, its):
        with pytest.raises(aws.scheduler().exceptions.ResourceNotFoundException):
            in_scheduler(schedule["scheduleId"])


def test_another_tenant_sees_none_of_it(
    client: ApiClient, issuer: DevIssuer, local_api: object, connection_id: str
) -> None:
    schedule_id = create(client, connection_id)["scheduleId"]
    other = ApiClient(local_api, issuer.token("tenant-other"))  # type: ignore[arg-type]
    path = f"{schedules_of(connection_id)}/{schedule_id}"
    for method, target in (
        ("GET", path),
        ("POST", f"{path}/pause"),
        ("DELETE", path),
        ("GET", schedules_of(connection_id)),
    ):
        error_of(other.request(method, target, json_body={} if method == "POST" else None), 404, "RESOURCE_NOT_FOUND")
    assert client.get(path).json["state"] == "Enabled"


SCOPED = [
    ("POST", "", "integration.runs.write", {"operation": "GetRepository", "parameters": REPO, "rate": "1 day"}),
    ("GET", "", "integration.runs.read", None),
    ("GET", "/sched-000000000000", "integration.runs.read", None),
    ("POST", "/sched-000000000000/pause", "integration.runs.write", {}),
    ("POST", "/sched-000000000000/resume", "integration.runs.write", {}),
    ("DELETE", "/sched-000000000000", "integration.runs.write", None),
]


@pytest.mark.parametrize(("method", "suffix", "scope", "body"), SCOPED)
def test_each_route_needs_its_scope_and_that_one_is_enough(
    client: ApiClient,
    issuer: DevIssuer,
    tenant: str,
    connection_id: str,
    method: str,
    suffix: str,
    scope: str,
    body: Any,
) -> None:
    path = schedules_of(connection_id) + suffix
    without = issuer.token(tenant, [s for s in ALL_SCOPES if s != scope])
    error = error_of(client.request(method, path, json_body=body, token=without), 403, "AUTHORIZATION_DENIED")
    assert scope in error["message"]
    reply = client.request(method, path, json_body=body, token=issuer.token(tenant, [scope]))
    assert reply.status in {200, 201, 404}, reply.body


def test_creating_killed_after_any_call_leaves_no_schedule_that_fires_unrecorded(
    client: ApiClient, tenant: str, connection_id: str
) -> None:
    """A Scheduler schedule whose item never got written (a crash between the two) makes no run when it fires."""
    from chalicelib.schedules import service, store
    from chalicelib.schedules.models import CreateScheduleRequest
    from tests.support.crashes import each_crash

    request = CreateScheduleRequest.model_validate({"operation": "GetRepository", "parameters": REPO, "rate": "1 day"})
    prefix = scheduler.name_of("")

    def check(crash: int) -> None:
        items = {s.schedule_id for s in store.of_connection(tenant, connection_id)}
        remote = {
            s["Name"].removeprefix(prefix) for s in aws.scheduler().list_schedules(NamePrefix=prefix)["Schedules"]
        }
        for orphan in remote - items:
            fired = firing.ScheduleFiring(
                tenant_id=tenant,
                connection_id=connection_id,
                schedule_id=orphan,
                operation="GetRepository",
                scheduled_time=WHEN,
            )
            assert firing.materialize(fired) is None, crash
        assert items <= remote, crash  # every recorded schedule can fire

    assert each_crash(lambda: service.create(tenant, connection_id, request), check) >= 3
