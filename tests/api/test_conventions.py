"""The HTTP conventions every route shares: versioning, body parsing, error shape, tracing, paging."""

from __future__ import annotations

import base64
import json
import secrets

import pytest

from tests.api.expect import error_of, fields_of
from tests.support.api_client import ApiClient

PROVIDERS = "/integrations/providers"
JSON = {"Content-Type": "application/json"}


def provider(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "key": f"p-{secrets.token_hex(3)}",
        "displayName": "Acme",
        "authModel": "ApiKey",
        "baseUrl": "https://api.acme.example",
    }
    body.update(overrides)
    return body


@pytest.mark.parametrize(
    "accept",
    [None, "application/vnd.connectsoft.integration.v1+json", "application/json", "*/*", "text/html, */*;q=0.1"],
)
def test_supported_accept_is_served(client: ApiClient, accept: str | None) -> None:
    headers = {"Accept": accept} if accept else {}
    assert client.get(PROVIDERS, headers=headers).status == 200


@pytest.mark.parametrize("accept", ["application/vnd.connectsoft.integration.v2+json", "text/html", "application/xml"])
def test_unknown_version_is_406(client: ApiClient, accept: str) -> None:
    error_of(client.get(PROVIDERS, headers={"Accept": accept}), 406, "NOT_ACCEPTABLE")


@pytest.mark.parametrize(
    ("path", "accept"),
    [
        ("/console", "text/html"),
        ("/portal", "text/html"),
        ("/docs", "text/html"),
        ("/console", "text/*"),
        ("/console", "text/html, application/xhtml+xml, application/xml;q=0.9, */*;q=0.8"),
        ("/console/console.js", "text/javascript"),
        ("/console/console.css", "text/css, */*;q=0.1"),
    ],
)
def test_a_page_is_served_to_the_media_types_it_produces(client: ApiClient, path: str, accept: str) -> None:
    reply = client.get(path, headers={"Accept": accept}, token="")
    assert reply.status == 200, reply.body
    assert (reply.header("Content-Type") or "").startswith("text/")


@pytest.mark.parametrize(
    ("path", "accept"),
    [("/console", "application/vnd.connectsoft.integration.v1+json"), ("/docs", "application/json")],
)
def test_a_page_refuses_a_json_only_accept(client: ApiClient, path: str, accept: str) -> None:
    error_of(client.get(path, headers={"Accept": accept}, token=""), 406, "NOT_ACCEPTABLE")


@pytest.mark.parametrize("accept", ["text/event-stream", "application/json, text/event-stream", None])
def test_get_mcp_is_405_allowing_post(client: ApiClient, accept: str | None) -> None:
    """The streamable-HTTP transport: a server that offers no event stream answers GET with 405 (docs/mcp.md)."""
    reply = client.get("/mcp", headers={"Accept": accept} if accept else {})
    error_of(reply, 405, "METHOD_NOT_ALLOWED")
    assert reply.header("Allow") == "POST"


@pytest.mark.parametrize("raw", [b"{", b'{"key": }', b"\xff\xfe", b"[" * 100_000])
def test_malformed_json_is_400_with_details(client: ApiClient, raw: bytes) -> None:
    error = error_of(client.post(PROVIDERS, body=raw, headers=JSON), 400, "VALIDATION_ERROR")
    assert fields_of(error) == {"body"}


@pytest.mark.parametrize("raw", [b'{"a": NaN}', b'{"a": Infinity}', b'{"a": -Infinity}'])
def test_non_json_numbers_are_400_naming_the_field(client: ApiClient, raw: bytes) -> None:
    error = error_of(client.post(PROVIDERS, body=raw, headers=JSON), 400, "VALIDATION_ERROR")
    assert fields_of(error) == {"a"}


@pytest.mark.parametrize("raw", [b"[]", b"[1]", b'"text"', b"42", b"null", b"true"])
def test_non_object_json_is_400(client: ApiClient, raw: bytes) -> None:
    error_of(client.post(PROVIDERS, body=raw, headers=JSON), 400, "VALIDATION_ERROR")


def test_empty_body_is_400(client: ApiClient) -> None:
    error = error_of(client.post(PROVIDERS, body=b"", headers=JSON), 400, "VALIDATION_ERROR")
    assert fields_of(error) == {"body"}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"displayName": 5}, "displayName"),
        ({"capabilities": "sms.send"}, "capabilities"),
        ({"capabilities": ["ok", 7]}, "capabilities.1"),
        ({"authModel": "Kerberos"}, "authModel"),
        ({"category": "Weather"}, "category"),
        ({"baseUrl": "not a url"}, "baseUrl"),
        ({"key": "Has Spaces"}, "key"),
        ({"webhookSignature": {"scheme": "rot13"}}, "webhookSignature.scheme"),
        ({"webhookSignature": {"scheme": "hmac", "header": "h" * 500_000}}, "webhookSignature.header"),
        ({"surprise": True}, "surprise"),
    ],
)
def test_invalid_field_is_400_naming_it(client: ApiClient, overrides: dict[str, object], field: str) -> None:
    error = error_of(client.post(PROVIDERS, provider(**overrides)), 400, "VALIDATION_ERROR")
    assert field in fields_of(error)


def test_missing_required_fields_are_each_named(client: ApiClient) -> None:
    error = error_of(client.post(PROVIDERS, {}), 400, "VALIDATION_ERROR")
    assert {"key", "displayName", "authModel", "baseUrl"} <= fields_of(error)


def test_body_over_the_limit_is_413(client: ApiClient) -> None:
    raw = json.dumps(provider(displayName="x" * (1024 * 1024))).encode()
    error_of(client.post(PROVIDERS, body=raw, headers=JSON), 413, "PAYLOAD_TOO_LARGE")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"])
def test_non_json_content_type_is_415(client: ApiClient, content_type: str) -> None:
    raw = json.dumps(provider()).encode()
    reply = client.post(PROVIDERS, body=raw, headers={"Content-Type": content_type})
    error_of(reply, 415, "UNSUPPORTED_MEDIA_TYPE")


def test_json_with_charset_is_accepted(client: ApiClient) -> None:
    raw = json.dumps(provider()).encode()
    reply = client.post(PROVIDERS, body=raw, headers={"Content-Type": "application/json; charset=utf-8"})
    assert reply.status == 201, reply.body


@pytest.mark.parametrize("path", ["/nope", "/integrations", "/integrations/providers/prov-github/extra"])
def test_unknown_route_is_404_in_the_shape(client: ApiClient, path: str) -> None:
    error_of(client.get(path), 404, "RESOURCE_NOT_FOUND")


def test_unknown_route_without_token_is_404(client: ApiClient) -> None:
    error_of(client.get("/nope", token=""), 404, "RESOURCE_NOT_FOUND")


@pytest.mark.parametrize(
    ("method", "path"), [("DELETE", PROVIDERS), ("PUT", "/integrations/connections"), ("POST", "/health")]
)
def test_unsupported_method_is_405_in_the_shape(client: ApiClient, method: str, path: str) -> None:
    reply = client.request(method, path)
    error_of(reply, 405, "METHOD_NOT_ALLOWED")
    assert reply.header("Allow")


def test_traceparent_becomes_the_trace_id(client: ApiClient) -> None:
    trace = secrets.token_hex(16)
    headers = {"traceparent": f"00-{trace}-{secrets.token_hex(8)}-01"}
    reply = client.get("/integrations/providers/prov-github", headers=headers)
    assert reply.status == 200
    assert reply.json["traceId"] == f"trace-{trace}" == reply.header("X-Trace-Id")
    failed = client.get("/integrations/providers/prov-missing", headers=headers)
    assert error_of(failed, 404, "RESOURCE_NOT_FOUND") and failed.json["traceId"] == f"trace-{trace}"


def test_correlation_id_is_honoured(client: ApiClient) -> None:
    reply = client.get("/integrations/providers/prov-missing", headers={"X-Correlation-Id": "corr-42.abc"})
    error_of(reply, 404, "RESOURCE_NOT_FOUND")
    assert reply.json["traceId"] == "corr-42.abc" == reply.header("X-Trace-Id")


def test_malformed_trace_headers_get_a_fresh_trace_id(client: ApiClient) -> None:
    reply = client.get(PROVIDERS, headers={"traceparent": "garbage", "X-Correlation-Id": "bad id with spaces"})
    trace_id = reply.header("X-Trace-Id") or ""
    assert reply.status == 200 and trace_id.startswith("trace-") and " " not in trace_id


def test_every_response_has_a_trace_header(client: ApiClient) -> None:
    for reply in (client.get(PROVIDERS), client.get("/nope"), client.get(PROVIDERS, token="")):
        assert reply.header("X-Trace-Id")


def cursor_of(document: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    ["abc", "!!!", "%00", cursor_of([1]), cursor_of({"providerId": {"S": "x"}}), cursor_of({"connectionId": "c"})],
)
@pytest.mark.parametrize("path", [PROVIDERS, "/integrations/connections"])
def test_invalid_cursor_is_400(client: ApiClient, path: str, cursor: str) -> None:
    if path.endswith("connections") and cursor == cursor_of({"connectionId": "c"}):
        cursor = cursor_of({"providerId": "p"})  # a cursor from the other list
    error_of(client.get(f"{path}?cursor={cursor}"), 400, "VALIDATION_ERROR")


@pytest.mark.parametrize("limit", ["0", "1000", "abc", "-1", "1.5", ""])
@pytest.mark.parametrize("path", [PROVIDERS, "/integrations/connections"])
def test_invalid_limit_is_400(client: ApiClient, path: str, limit: str) -> None:
    error = error_of(client.get(f"{path}?limit={limit}"), 400, "VALIDATION_ERROR")
    assert fields_of(error) == {"limit"}


def test_unknown_query_filter_value_is_400(client: ApiClient) -> None:
    error = error_of(client.get("/integrations/connections?status=Sleeping"), 400, "VALIDATION_ERROR")
    assert fields_of(error) == {"status"}
