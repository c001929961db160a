"""Timestamps in ``/openapi.json`` and in what older code stored.

The document declares every time ``format: date-time`` with the one form's
pattern; an item written in another spelling before the form was fixed reads
back in it (``docs/api.md``, "Timestamps"). The e2e test
``tests/e2e/test_timestamps_e2e.py`` checks the responses of a realistic flow.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chalicelib.core.ids import new_id
from chalicelib.core.timestamps import PATTERN
from chalicelib.events import store as events
from chalicelib.events.models import PlatformEvent
from chalicelib.runs import store as runs
from chalicelib.runs.models import Run, RunStatus
from tests.support.api_client import ApiClient
from tests.support.timestamps import TIME_KEY, named_times, off_form, resolve

OLDER = {"seconds": "2026-06-11T02:09:43Z", "offset": "2026-06-11T02:09:43.496123+00:00"}


def _response_schemas(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation.get("responses", {}).items():
                for media in response.get("content", {}).values():
                    yield f"{method.upper()} {path} {status}", media["schema"]


def _properties(document: dict[str, Any], schema: dict[str, Any], seen: set[int]) -> Iterator[tuple[str, Any]]:
    schema = resolve(document, schema)
    if id(schema) in seen:
        return
    seen.add(id(schema))
    for name, prop in schema.get("properties", {}).items():
        yield name, prop
        yield from _properties(document, prop, seen)
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, []):
            yield from _properties(document, option, seen)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            yield from _properties(document, schema[key], seen)


def _date_times(document: dict[str, Any], schema: dict[str, Any]) -> list[dict[str, Any]]:
    schema = resolve(document, schema)
    found = [schema] if schema.get("format") == "date-time" else []
    for option in schema.get("anyOf", []):
        found += _date_times(document, option)
    return found


def test_every_time_in_every_response_schema_is_a_date_time_of_the_one_form(document: dict[str, Any]) -> None:
    walked, undeclared = 0, []
    for where, schema in _response_schemas(document):
        for name, prop in _properties(document, schema, set()):
            if not TIME_KEY.search(name):
                continue
            walked += 1
            declared = _date_times(document, prop)
            if not declared or any(d.get("pattern") != PATTERN or not d.get("examples") for d in declared):
                undeclared.append(f"{where}: {name}")
    assert walked > 20, "the walk found the timestamps"
    assert undeclared == []


def test_older_spellings_of_a_stored_run_read_back_in_the_one_form(client: ApiClient, tenant: str) -> None:
    older = Run.model_construct(
        run_id=new_id("run"),
        tenant_id=tenant,
        connection_id="conn-7b3c1f9a0000",
        operation="OpenPullRequest",
        status=RunStatus.COMPLETED,
        attempts=1,
        created_at=OLDER["seconds"],
        started_at=OLDER["seconds"],
        completed_at=OLDER["offset"],
        result={"number": 42},
        error=None,
    )
    assert runs.insert(older, swept=False)
    one = client.get(f"/integrations/runs/{older.run_id}")
    assert one.status == 200, one.body
    assert one.json["startedAt"] == "2026-06-11T02:09:43.000Z"
    assert one.json["completedAt"] == "2026-06-11T02:09:43.496Z"
    listed = client.get("/integrations/runs?limit=100")
    assert listed.status == 200 and off_form(named_times(listed.json)) == []


def test_older_spellings_of_a_stored_platform_event_read_back_in_the_one_form(client: ApiClient, tenant: str) -> None:
    event = PlatformEvent.model_construct(
        event_id=new_id("evt"),
        tenant_id=tenant,
        type="RunCompleted",
        source="runs",
        timestamp=OLDER["offset"],
        data={"runId": "run-1", "startedAt": OLDER["seconds"], "completedAt": OLDER["offset"], "payload": {}},
        trace_id=None,
        expires_at=None,
        origin=None,
    )
    assert events.insert(event)
    reply = client.get(f"/events/{event.event_id}")
    assert reply.status == 200, reply.body
    assert reply.json["timestamp"] == "2026-06-11T02:09:43.496Z"
    assert reply.json["data"]["startedAt"] == "2026-06-11T02:09:43.000Z"
    assert off_form(named_times(reply.json)) == []


def test_a_callers_published_data_is_kept_exactly(client: ApiClient) -> None:
    data = {"startedAt": OLDER["seconds"], "note": "theirs"}
    published = client.post("/events", {"type": "RunCompleted", "data": data})
    assert published.status in (201, 202), published.body
    reply = client.get(f"/events/{published.json['eventId']}")
    assert reply.json["data"] == data
    assert reply.json["timestamp"].endswith("Z") and len(reply.json["timestamp"]) == 24
