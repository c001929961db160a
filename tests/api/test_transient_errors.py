"""A transient AWS failure is 503 with ``Retry-After`` in the one error shape; anything else unexpected is 500."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from chalicelib.core import aws
from chalicelib.core.config import get_settings
from chalicelib.core.errors import ServiceUnavailable, is_transient
from tests.api.expect import error_of
from tests.support.api_client import ApiClient
from tests.support.refusals import client_error, refused

CONNECTIONS = "/integrations/connections"
PROVIDER = {"key": "transient", "displayName": "T", "authModel": "ApiKey", "baseUrl": "https://api.t.example"}

TRANSIENT: dict[str, Callable[[], BaseException]] = {
    "throttled": lambda: client_error("ThrottlingException"),
    "provisioned throughput": lambda: client_error("ProvisionedThroughputExceededException"),
    "request limit": lambda: client_error("RequestLimitExceeded"),
    "service 500": lambda: client_error("InternalServerError", 500),
    "unknown 503": lambda: client_error("SomethingNew", 503),
    "transaction conflict": lambda: client_error(
        "TransactionCanceledException", CancellationReasons=[{"Code": "None"}, {"Code": "TransactionConflict"}]
    ),
    "no endpoint": lambda: EndpointConnectionError(endpoint_url="https://dynamodb.invalid"),
    "read timeout": lambda: ReadTimeoutError(endpoint_url="https://dynamodb.invalid"),
}
NOT_TRANSIENT: dict[str, Callable[[], BaseException]] = {
    "access denied": lambda: client_error("AccessDeniedException"),
    "validation": lambda: client_error("ValidationException"),
    "quota reached": lambda: client_error("LimitExceededException"),
    "condition failed in a transaction": lambda: client_error(
        "TransactionCanceledException",
        CancellationReasons=[{"Code": "ConditionalCheckFailed"}, {"Code": "TransactionConflict"}],
    ),
    "not AWS": lambda: RuntimeError("a bug"),
}


@pytest.mark.parametrize("kind", TRANSIENT)
def test_a_transient_aws_failure_is_503_with_retry_after(client: ApiClient, kind: str) -> None:
    with refused(aws.dynamodb(), "Query", TRANSIENT[kind]) as calls:
        reply = client.get(CONNECTIONS)
    assert calls
    error_of(reply, 503, "SERVICE_UNAVAILABLE")
    assert reply.header("Retry-After") == str(ServiceUnavailable.RETRY_AFTER_SECONDS)


@pytest.mark.parametrize("kind", NOT_TRANSIENT)
def test_anything_else_unexpected_stays_500(client: ApiClient, kind: str) -> None:
    with refused(aws.dynamodb(), "Query", NOT_TRANSIENT[kind]):
        reply = client.get(CONNECTIONS)
    error_of(reply, 500, "INTERNAL_ERROR")
    assert reply.header("Retry-After") is None
    assert "refused by the test" not in reply.body.decode() and "a bug" not in reply.body.decode()


def test_the_idempotency_store_failing_before_anything_ran_is_503_and_the_retry_creates(client: ApiClient) -> None:
    """The failure the issue saw as 500: the in-progress record cannot be written, so nothing was created."""
    table = get_settings().table_name("idempotency")
    headers = {"Idempotency-Key": "store-down"}
    with refused(aws.dynamodb(), "PutItem", TRANSIENT["throttled"], when=lambda p: p["TableName"] == table):
        reply = client.post("/integrations/providers", PROVIDER, headers=headers)
    error_of(reply, 503, "SERVICE_UNAVAILABLE")
    assert reply.header("Retry-After") == "1"
    again = client.post("/integrations/providers", PROVIDER, headers=headers)
    assert again.status == 201 and again.header("Idempotent-Replayed") is None


def test_a_wrapped_transient_error_is_found_through_its_cause() -> None:
    class Wrapper(Exception):
        pass

    try:
        try:
            raise client_error("ThrottlingException")
        except ClientError as exc:
            raise Wrapper("the idempotency store failed") from exc
    except Wrapper as wrapped:
        assert is_transient(wrapped)
    assert not is_transient(Wrapper("alone"))


def test_every_operation_documents_the_503_and_its_retry_after(client: ApiClient) -> None:
    from chalicelib.api.routing import OPERATIONS

    document = client.get("/openapi.json").json
    for op in OPERATIONS:
        unavailable = document["paths"][op.path][op.method.lower()]["responses"]["503"]
        if op.operation_id != "platform_health":  # its 503 is its own report, not the error shape
            assert "Retry-After" in unavailable["headers"], (op.method, op.path)
