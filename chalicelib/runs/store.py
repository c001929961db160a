"""Run items; the partition key is the tenant, the sort key the run id."""

from __future__ import annotations

from chalicelib.core.dynamo import Table
from chalicelib.runs.models import Run

TABLE = Table("runs", sort_key="runId")


def insert(run: Run) -> bool:
    return TABLE.put_new(run.model_dump(mode="json", by_alias=True, exclude_none=True))


def get(tenant_id: str, run_id: str) -> Run | None:
    item = TABLE.get(tenant_id, run_id)
    return Run.model_validate(item) if item else None
