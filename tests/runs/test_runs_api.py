"""Reading runs: the 004 shape for the owner, 404 for everyone else."""

from __future__ import annotations

from chalicelib.core.ids import new_id
from chalicelib.core.timestamps import now_text
from chalicelib.runs import store
from chalicelib.runs.models import Run, RunStatus
from infra.local.dev_issuer import DevIssuer
from infra.local.gateway import LocalApi
from tests.api.expect import client_for, error_of
from tests.support.api_client import ApiClient

RUN_004_FIELDS = {"runId", "connectionId", "operation", "status", "attempts", "startedAt", "completedAt", "traceId"}


def insert_run(tenant: str, **overrides: object) -> Run:
    now = now_text()
    fields: dict[str, object] = {
        "run_id": new_id("run"),
        "tenant_id": tenant,
        "connection_id": "conn-7b3c1f9a0000",
        "operation": "OpenPullRequest",
        "status": RunStatus.COMPLETED,
        "attempts": 1,
        "created_at": now,
        "started_at": now,
        "completed_at": now,
        "result": {"number": 42},
    }
    fields.update(overrides)
    run = Run.model_validate(fields)
    assert store.insert(run)
    return run


def test_owner_reads_the_004_shape(client: ApiClient, tenant: str) -> None:
    run = insert_run(tenant)
    reply = client.get(f"/integrations/runs/{run.run_id}")
    assert reply.status == 200, reply.body
    got = reply.json
    assert set(got) >= RUN_004_FIELDS
    assert got["runId"] == run.run_id
    assert got["connectionId"] == run.connection_id
    assert got["operation"] == "OpenPullRequest"
    assert got["status"] == "Completed"
    assert got["attempts"] == 1
    assert got["startedAt"] == run.started_at and got["completedAt"] == run.completed_at
    assert got["result"] == {"number": 42}
    assert got["traceId"] == reply.header("X-Trace-Id")


def test_a_pending_run_omits_what_has_not_happened(client: ApiClient, tenant: str) -> None:
    run = insert_run(tenant, status=RunStatus.PENDING, attempts=0, started_at=None, completed_at=None, result=None)
    got = client.get(f"/integrations/runs/{run.run_id}").json
    assert got["status"] == "Pending" and got["attempts"] == 0
    assert "completedAt" not in got and "startedAt" not in got


def test_other_tenant_gets_404(client: ApiClient, tenant: str, local_api: LocalApi, issuer: DevIssuer) -> None:
    run = insert_run(tenant)
    error_of(client_for(local_api, issuer).get(f"/integrations/runs/{run.run_id}"), 404, "RESOURCE_NOT_FOUND")


def test_unknown_run_is_404(client: ApiClient) -> None:
    error = error_of(client.get("/integrations/runs/run-000000000000"), 404, "RESOURCE_NOT_FOUND")
    assert "run-000000000000" in error["message"]
