"""The ingest routes as the deployed HTTP API calls them: payload format 1.0 events, fed to ``app`` as Lambda does.

The packaged template integrates the API function with the ingest HTTP API at
payload format 1.0 (infra/template.json), the shape Chalice's handler reads for
REST. These events follow AWS's published 1.0 example (docs/deploy.md "Two
fronts"): header names lower case, repeated headers and query values in the
``multiValue*`` fields, ``resourcePath`` the route's path, stage ``$default``,
and a body API Gateway may base64-encode. What the signature covers (the raw
body, the URL for Twilio) must reach the verifier byte for byte.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from app import app
from chalicelib.inbound.signatures.twilio import sign
from tests.inbound import signers
from tests.inbound.conftest import Hook, json_bytes
from tests.support.api_client import ApiClient
from tests.support.run_driver import settings, start

INGEST = "https://abc123.execute-api.us-east-1.amazonaws.com"
MANAGEMENT = "https://def456.execute-api.us-east-1.amazonaws.com/api"
PUSH = {"ref": "refs/heads/main", "head_commit": {"message": "café ✓ — naïve"}}
BODY = json.dumps(PUSH, ensure_ascii=False).encode()  # as GitHub sends it: UTF-8, not escaped


class LambdaContext:
    function_name = "integration-platform-test-APIHandler"
    aws_request_id = "http-api-test"

    def get_remaining_time_in_millis(self) -> int:
        return 29_000


def http_api_event(
    route: str,
    path: str,
    headers: list[tuple[str, str]],
    body: bytes,
    *,
    base64_body: bool = False,
    query: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """What API Gateway sends for ``route`` (``"POST /webhooks/deliveries/{id}"``) at payload format 1.0."""
    method, _, resource = route.partition(" ")
    multi: dict[str, list[str]] = {}
    for name, value in headers:
        multi.setdefault(name.lower(), []).append(value)
    template_parts, path_parts = resource.split("/"), path.split("/")
    parameters = {t[1:-1]: p for t, p in zip(template_parts, path_parts, strict=True) if t.startswith("{")}
    return {
        "version": "1.0",
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": {name: values[-1] for name, values in multi.items()},
        "multiValueHeaders": multi,
        "queryStringParameters": {k: v[-1] for k, v in query.items()} if query else None,
        "multiValueQueryStringParameters": query or None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abc123",
            "extendedRequestId": "request-id",
            "httpMethod": method,
            "identity": {"sourceIp": "192.0.2.10", "userAgent": "GitHub-Hookshot/abc"},
            "path": path,
            "protocol": "HTTP/1.1",
            "requestId": "id=",
            "requestTime": "07/Dec/2026:07:00:00 +0000",
            "requestTimeEpoch": 1796540400000,
            "resourceId": None,
            "resourcePath": resource,
            "stage": "$default",
        },
        "pathParameters": parameters or None,
        "stageVariables": None,
        "body": base64.b64encode(body).decode() if base64_body else body.decode(),
        "isBase64Encoded": base64_body,
    }


def invoke(event: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    """The function's answer, checked against the 1.0 response format API Gateway accepts."""
    response: dict[str, Any] = app(event, LambdaContext())
    assert isinstance(response["statusCode"], int) and isinstance(response["body"], str)
    assert not response.get("isBase64Encoded")
    assert all(isinstance(v, str) for v in response["headers"].values())
    return response["statusCode"], response["headers"], json.loads(response["body"])


def vendor_event(hook: Hook, body: bytes, signature: dict[str, str], **kw: Any) -> dict[str, Any]:
    headers = [
        ("Content-Type", "application/json"),
        ("X-GitHub-Event", "push"),
        ("X-GitHub-Delivery", kw.pop("delivery", "d-1")),
        # A repeated header: 1.0 keeps every value in multiValueHeaders and the last one in headers.
        ("Accept", "*/*"),
        ("Accept", "application/json"),
        *signature.items(),
    ]
    route = "POST /webhooks/deliveries/{id}"
    return http_api_event(route, f"/webhooks/deliveries/{hook.connection_id}", headers, body, **kw)


def test_a_signed_vendor_delivery_through_the_http_api_is_accepted_and_a_forged_one_refused(
    client: ApiClient, connect: Callable[..., Hook]
) -> None:
    hook = connect("prov-github")
    body = BODY
    status, headers, receipt = invoke(vendor_event(hook, body, signers.github(hook.secret, body)))
    assert status == 202, receipt
    assert receipt["deliveryId"].startswith("del-") and receipt["normalizedEventType"]
    assert headers["Location"] == f"/webhooks/deliveries/{receipt['deliveryId']}"
    forged = signers.github(hook.secret, body + b" ")
    status, _, error = invoke(vendor_event(hook, body, forged, delivery="d-2"))
    assert (status, error["error"]["code"]) == (401, "AUTHENTICATION_FAILED")


def test_a_base64_body_is_verified_over_its_decoded_bytes(client: ApiClient, connect: Callable[..., Hook]) -> None:
    """API Gateway base64-encodes a body it takes for binary; the signature covers the bytes the vendor sent."""
    hook = connect("prov-github")
    body = BODY
    accepted = vendor_event(hook, body, signers.github(hook.secret, body), base64_body=True)
    assert invoke(accepted)[0] == 202
    signed_over_text = signers.github(hook.secret, accepted["body"].encode())
    refused = vendor_event(hook, body, signed_over_text, base64_body=True, delivery="d-2")
    assert invoke(refused)[0] == 401


def test_the_004_envelope_route_reads_its_headers_and_query_from_the_http_api_event(
    client: ApiClient, connect: Callable[..., Hook]
) -> None:
    hook = connect("prov-github")
    envelope = json_bytes({"providerDeliveryId": "gh-1", "eventName": "push", "payload": PUSH})
    headers = [("content-type", "application/json"), ("x-cs-provider", "prov-github")]
    headers += list(signers.github(hook.secret, envelope).items())
    query = {"connectionId": [hook.connection_id]}
    event = http_api_event("POST /webhooks/deliveries", "/webhooks/deliveries", headers, envelope, query=query)
    status, _, receipt = invoke(event)
    assert status == 202, receipt
    without = http_api_event("POST /webhooks/deliveries", "/webhooks/deliveries", headers, envelope)
    status, _, error = invoke(without)
    assert status == 400 and [d["field"] for d in error["error"]["details"]] == ["X-CS-Connection"]


def test_a_twilio_status_callback_is_verified_over_the_ingest_url_not_the_management_one(
    client: ApiClient, connect: Callable[..., Hook]
) -> None:
    """Twilio signs the URL it was given, the connection's webhookUrl: the ingest API's, when deployed."""
    hook = connect("prov-twilio-sms", webhookSecret="twilio-auth-token")
    run = start(client, hook.connection_id, "SendSms", {"to": "+15555550123", "from": "+15555550100", "body": "hi"})
    path = f"/webhooks/deliveries/{hook.connection_id}"
    query = {"runId": [run["runId"]]}
    signed_url = f"{path}?{urlencode({'runId': run['runId']})}"
    form = urlencode({"MessageSid": "SM1", "MessageStatus": "delivered", "AccountSid": "AC1"}).encode()

    def callback(base: str) -> int:
        headers = [
            ("content-type", "application/x-www-form-urlencoded"),
            ("x-twilio-signature", sign("twilio-auth-token", base + signed_url, form)),
        ]
        event = http_api_event("POST /webhooks/deliveries/{id}", path, headers, form, query=query)
        return invoke(event)[0]

    with settings(INGEST_BASE_URL=INGEST, PUBLIC_BASE_URL=MANAGEMENT):
        assert (callback(MANAGEMENT), callback(INGEST)) == (401, 202)
