"""Every JSON body is valid Unicode and storable as sent, or a 400 before anything is written.

One check in the request pipeline (``parse_json_body`` with ``chalicelib/core/json_input.py``) covers every route;
these tests go through the real app, one route family at a time, and look afterwards
that nothing was stored.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from chalicelib.events import store as events
from tests.api.expect import error_of, fields_of
from tests.support.api_client import ApiClient, Reply
from tests.support.run_driver import connect

CONNECTIONS = "/integrations/connections"
LONE = "\ud800"  # half of a surrogate pair: JSON can spell it, UTF-8 cannot
SIXTY_ONE_DIGITS = "1" + "0" * 60
TEXT = {
    "emoji": "deploy \U0001f680 done \U0001f44d\U0001f3fd",
    "cjk": "接続 설정 テスト",
    "escaped": 'tab\tquote" backslash\\ nul\u0000 bell\u0007 e\u0301 \u2028',
}


def post_raw(client: ApiClient, path: str, body: str, method: str = "POST") -> Reply:
    """The body exactly as written, so number literals reach the API untouched by Python's json."""
    return client.request(method, path, body=body.encode(), headers={"Content-Type": "application/json"})


def refused(reply: Reply, field: str) -> dict[str, Any]:
    error = error_of(reply, 400, "VALIDATION_ERROR")
    assert field in fields_of(error), error
    return error


def event_count(tenant: str) -> int:
    return len(events.TABLE.query(tenant, limit=100, cursor=None).items)


# --- POST /events -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ('{"items": [{"name": "ok"}, {"name": "\\ud800"}]}', "data.items[1].name"),
        ('{"\\udfff": 1}', "data"),
        (f'{{"n": {SIXTY_ONE_DIGITS}}}', "data.n"),
        ('{"n": 123456789012345678901234567890123456789}', "data.n"),
        ('{"n": [1e-400]}', "data.n[0]"),
        ('{"n": 1e400}', "data.n"),
        ('{"n": -1e126}', "data.n"),
        ('{"n": 1e-131}', "data.n"),
        ('{"n": NaN}', "data.n"),
        ('{"n": -Infinity}', "data.n"),
        ('{"n": 0.1000000000000000000001}', "data.n"),
    ],
)
def test_publish_refuses_what_cannot_be_kept_as_sent(client: ApiClient, tenant: str, data: str, field: str) -> None:
    error = refused(post_raw(client, "/events", f'{{"type": "InvoicePaid", "data": {data}}}'), field)
    assert "\\ud800" not in json.dumps(error) and "\\udfff" not in json.dumps(error)
    assert event_count(tenant) == 0


def test_publish_refuses_nesting_deeper_than_dynamodb_stores(client: ApiClient, tenant: str) -> None:
    deep = "[" * 40 + "]" * 40
    error = error_of(
        post_raw(client, "/events", f'{{"type": "Deep", "data": {{"d": {deep}}}}}'), 400, "VALIDATION_ERROR"
    )
    assert error["details"][0]["field"] == "data.d" + "[0]" * 30 and "32" in error["details"][0]["message"]
    assert event_count(tenant) == 0


DEEP = "[" * 1000 + "]" * 1000  # Python's json.loads raises RecursionError here


def test_every_body_and_cursor_nested_past_any_parser_is_a_400(client: ApiClient, local_api: object) -> None:
    """Bodies and cursors go through the one guarded reader (chalicelib.core.jsontext.read); none is a 500."""
    for raw in (DEEP, f'{{"type": "Deep", "data": {DEEP}}}'):
        error = error_of(post_raw(client, "/events", raw), 400, "VALIDATION_ERROR")
        assert error["message"] == "The request body is nested too deeply."
    sub = client.post("/webhooks/subscriptions", {"eventTypes": ["*"], "endpointUrl": "http://127.0.0.1:9/x"}).json
    one = f"/webhooks/subscriptions/{sub['subscriptionId']}"
    session = client.post("/webhooks/portal-sessions", {"subscriptionIds": [sub["subscriptionId"]]})
    portal = ApiClient(local_api, session.json["token"])  # type: ignore[arg-type]
    patched = portal.request("PATCH", one, body=DEEP.encode(), headers={"Content-Type": "application/json"})
    assert error_of(patched, 400, "VALIDATION_ERROR")["message"] == "The request body is nested too deeply."
    cursor = base64.urlsafe_b64encode(DEEP.encode()).decode().rstrip("=")
    for path in ("/webhooks/subscriptions", f"{one}/attempts"):  # core.dynamo's and the attempts log's cursors
        assert error_of(client.get(f"{path}?cursor={cursor}"), 400, "VALIDATION_ERROR")["message"] == (
            "The cursor is not valid."
        )


def test_published_text_and_numbers_round_trip_exactly(client: ApiClient) -> None:
    numbers = (
        '{"max": 99999999999999999999999999999999999999, "min": -99999999999999999999999999999999999999,'
        ' "tenth": 0.1, "tiny": 1e-130, "huge": 9.99e125, "exp": 1.5e3, "zero": -0.0, "price": 19.99}'
    )
    body = json.dumps({"type": "TextSent", "data": {**TEXT, "numbers": "N"}}).replace('"N"', numbers)
    reply = post_raw(client, "/events", body)
    assert reply.status == 201, reply.body
    stored = client.get(f"/events/{reply.json['eventId']}")
    assert stored.status == 200, stored.body
    expected = json.loads(body)["data"]
    for data in (reply.json["data"], stored.json["data"]):
        assert {k: data[k] for k in TEXT} == TEXT
        assert data["numbers"] == expected["numbers"]
    assert stored.json["data"]["numbers"]["max"] == 10**38 - 1


# --- POST /integrations/connections/{id}/operations/{op} -------------------------------------


@pytest.mark.parametrize(
    ("parameters", "field"),
    [
        ('{"owner": "octo", "repo": "hello", "title": "\\ud800", "head": "f", "base": "main"}', "parameters.title"),
        (
            f'{{"owner": "octo", "repo": "r", "title": {SIXTY_ONE_DIGITS}, "head": "f", "base": "m"}}',
            "parameters.title",
        ),
        ('{"owner": "octo", "repo": "r", "title": "t", "head": "f", "base": "m", "n": 1e-400}', "parameters.n"),
    ],
)
def test_run_parameters_are_refused_and_no_run_is_recorded(client: ApiClient, parameters: str, field: str) -> None:
    connection_id = connect(client, "http://127.0.0.1:9", provider_id="prov-github")
    path = f"{CONNECTIONS}/{connection_id}/operations/OpenPullRequest"
    refused(post_raw(client, path, f'{{"parameters": {parameters}}}'), field)
    assert client.get("/integrations/runs").json["items"] == []


def test_run_parameters_keep_unicode_exactly(client: ApiClient) -> None:
    connection_id = connect(client, "http://127.0.0.1:9", provider_id="prov-github")
    parameters = {"owner": "octo", "repo": "hello", "title": TEXT["emoji"], "head": TEXT["cjk"], "base": "main"}
    reply = client.post(f"{CONNECTIONS}/{connection_id}/operations/OpenPullRequest", {"parameters": parameters})
    assert reply.status == 202, reply.body
    assert client.get(f"/integrations/runs/{reply.json['runId']}").json["parameters"] == parameters


# --- POST and PATCH /integrations/connections ------------------------------------------------


def connection(**fields: Any) -> dict[str, Any]:
    # Generic HTTP keeps its configuration open (any key), which these body-parsing tests rely on.
    return {"providerId": "prov-generic-http", "displayName": "input", "credentials": {"token": "ghp_x"}, **fields}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (connection(configuration={"org": "acme" + LONE}), "configuration.org"),
        (connection(displayName=LONE), "displayName"),
        (connection(configuration={"limits": [1, 10**60]}), "configuration.limits[1]"),
    ],
)
def test_create_connection_refuses_and_writes_nothing(client: ApiClient, body: dict[str, Any], field: str) -> None:
    refused(client.post(CONNECTIONS, body), field)
    assert client.get(CONNECTIONS).json["items"] == []


def test_create_connection_refuses_1e_minus_400(client: ApiClient) -> None:
    body = json.dumps(connection(configuration={"ratio": "R"})).replace('"R"', "1e-400")
    refused(post_raw(client, CONNECTIONS, body), "configuration.ratio")
    assert client.get(CONNECTIONS).json["items"] == []


@pytest.mark.parametrize("secret_field", ["credentials.token", "webhookSecret"])
def test_secrets_with_a_lone_surrogate_are_named_never_echoed(client: ApiClient, secret_field: str) -> None:
    value = "s3cr3t-value-" + LONE
    body = connection(credentials={"token": value}) if secret_field == "credentials.token" else connection()
    if secret_field == "webhookSecret":
        body["webhookSecret"] = value
    error = refused(client.post(CONNECTIONS, body), secret_field)
    assert "s3cr3t-value" not in json.dumps(error)
    assert client.get(CONNECTIONS).json["items"] == []


def test_patch_connection_refuses_and_keeps_the_configuration(client: ApiClient) -> None:
    created = client.post(CONNECTIONS, connection(configuration={"org": "acme"}))
    assert created.status == 201, created.body
    path = f"{CONNECTIONS}/{created.json['connectionId']}"
    refused(client.request("PATCH", path, json_body={"configuration": {"org": LONE}}), "configuration.org")
    refused(post_raw(client, path, '{"configuration": {"n": 1e400}}', method="PATCH"), "configuration.n")
    assert client.get(path).json["configuration"] == {"org": "acme"}


def test_connection_configuration_round_trips_unicode(client: ApiClient) -> None:
    created = client.post(CONNECTIONS, connection(configuration=TEXT))
    assert created.status == 201, created.body
    path = f"{CONNECTIONS}/{created.json['connectionId']}"
    assert client.get(path).json["configuration"] == TEXT
    patched = client.request("PATCH", path, json_body={"configuration": {"name": TEXT["cjk"]}})
    assert patched.status == 200, patched.body
    assert client.get(path).json["configuration"] == {"name": TEXT["cjk"]}


def test_inbound_ingest_routes_take_raw_bytes_and_skip_the_check(local_api: object) -> None:
    """A signed vendor delivery is never refused for its content: ingest routes declare no request model."""
    from chalicelib.api.routing import OPERATIONS

    ingest = [
        op
        for op in OPERATIONS
        if op.path.startswith("/webhooks/deliveries") and op.method == "POST" and not op.path.endswith("/redrive")
    ]
    assert len(ingest) == 2 and all(op.raw_body and op.request_model is None for op in ingest)
