"""Matrices over every declared operation (``routing.OPERATIONS``, so new routes are covered as they appear).

- Tenant isolation: every tenant-scoped operation with a path id, called by tenant B with tenant A's
  ids and a valid body, answers 404; afterwards A still reads every resource unchanged.
- Scopes: every authenticated operation, called with every scope but its own (by token and by API
  key), answers 403 before looking at the body or the ids.
- Portal tokens (chalicelib/portal): every operation not declared ``portal=True`` answers one 403;
  every portal operation, given ids outside the token's allow-list (tenant A's own), answers 404.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.api.routing import OPERATIONS, Operation
from chalicelib.auth.principal import ALL_SCOPES
from infra.local.dev_issuer import DevIssuer
from tests.api.expect import client_for, error_of
from tests.outbound.conftest import QueueDriver
from tests.reliability.resources import Made, make_resources
from tests.support.api_client import ApiClient
from tests.support.fake_vendor import serve_vendor
from tests.support.receiver import serve_receiver

PARAM = re.compile(r"\{(\w+)\}")
VENDOR_TOKEN = "isolation-vendor-token"
# A body each operation accepts, so that only the foreign id can be what it refuses.
BODIES: dict[str, dict[str, Any]] = {
    "WebhookSecretChange": {"overlapSeconds": 0},
    "UpdateConnectionRequest": {"displayName": "B was here"},
    "CredentialsChange": {"credentials": {"token": "b-token"}},
    "ExecuteOperationRequest": {"parameters": {"owner": "octo", "repo": "hello"}},
    "UpdateSubscriptionRequest": {"active": False},
    "RecoverRequest": {"since": "2020-01-01T00:00:00Z"},
    "PreviewRequest": {"event": {"type": "InvoicePaid", "data": {}}},
    "CreateScheduleRequest": {
        "operation": "GetRepository",
        "parameters": {"owner": "octo", "repo": "hello"},
        "rate": "1 day",
    },
}


def _app_operations() -> list[Operation]:
    import app  # noqa: F401  (registers every operation)

    return list(OPERATIONS)


AUTHENTICATED = [op for op in _app_operations() if op.scope is not None]
WITH_PATH_ID = [op for op in AUTHENTICATED if PARAM.search(op.path)]


PORTAL_WITH_PATH_ID = [op for op in WITH_PATH_ID if op.portal]
NOT_PORTAL = [op for op in AUTHENTICATED if not op.portal]


def _label(op: Operation) -> str:
    return f"{op.method} {op.path}"


@pytest.fixture(scope="module")
def tenant_a(local_api: object, issuer: DevIssuer) -> Iterator[tuple[ApiClient, Made]]:
    client = client_for(local_api, issuer)  # type: ignore[arg-type]
    with serve_vendor() as vendor, serve_receiver() as receiver:
        vendor.expect_bearer(VENDOR_TOKEN)
        made = make_resources(client, vendor.url, receiver.url, {"token": VENDOR_TOKEN}, key="isolation")
        QueueDriver().drain()  # leave no queued work to the tests that share these queues after this module
        yield client, made


def _path(op: Operation, ids: dict[str, str]) -> str:
    missing = [name for name in PARAM.findall(op.path) if name not in ids]
    assert not missing, f"{_label(op)}: no resource of tenant A for {missing}; add it to resources.py"
    return PARAM.sub(lambda m: ids[m.group(1)], op.path)


def _body(op: Operation) -> dict[str, Any] | None:
    if op.request_model is None:
        return None
    name = op.request_model.__name__
    assert name in BODIES, f"{_label(op)}: add a valid {name} body to BODIES"
    return BODIES[name]


@pytest.mark.parametrize("op", WITH_PATH_ID, ids=_label)
def test_another_tenants_ids_are_always_404(
    op: Operation, tenant_a: tuple[ApiClient, Made], local_api: object, issuer: DevIssuer
) -> None:
    _, made = tenant_a
    tenant_b = client_for(local_api, issuer)  # type: ignore[arg-type]
    reply = tenant_b.request(op.method, _path(op, made.ids), json_body=_body(op))
    assert reply.status == 404, reply.body
    error_of(reply, 404, reply.json["error"]["code"])


def test_another_tenants_credential_cannot_be_rotated(
    tenant_a: tuple[ApiClient, Made], local_api: object, issuer: DevIssuer
) -> None:
    _, made = tenant_a
    tenant_b = client_for(local_api, issuer)  # type: ignore[arg-type]
    reply = tenant_b.post("/integrations/credentials/rotate", {"credentialId": made.ids["credentialId"]})
    assert reply.status == 404, reply.body


def test_tenant_a_still_has_everything(tenant_a: tuple[ApiClient, Made]) -> None:
    """Runs after the matrix (same module, file order): nothing B sent changed or removed A's resources."""
    client, made = tenant_a
    for op in WITH_PATH_ID:
        if op.method == "GET":
            assert client.get(_path(op, made.ids)).status == 200, _label(op)
    keys = client.get("/auth/api-keys").json["items"]
    assert [k["status"] for k in keys] == ["Active"]
    assert client.get(f"/webhooks/subscriptions/{made.ids['subscriptionId']}").json["active"] is True


@pytest.mark.parametrize("op", AUTHENTICATED, ids=_label)
def test_every_operation_without_its_scope_is_403(
    op: Operation, client: ApiClient, issuer: DevIssuer, tenant: str
) -> None:
    assert op.scope is not None
    others = [s for s in ALL_SCOPES if s != op.scope]
    path = PARAM.sub("x-000000000000", op.path)
    body: dict[str, Any] | None = {} if op.request_model else None  # the scope is checked before the body is read
    by_token = client.request(op.method, path, json_body=body, token=issuer.token(tenant, others))
    assert op.scope in error_of(by_token, 403, "AUTHORIZATION_DENIED")["message"]
    none = client.request(op.method, path, token=issuer.token(tenant, []))
    error_of(none, 403, "AUTHORIZATION_DENIED")
    key = client.post("/auth/api-keys", {"name": "narrow", "scopes": others}).json["apiKey"]
    by_key = client.request(op.method, path, json_body=body, token="", headers={"X-API-Key": key})
    error_of(by_key, 403, "AUTHORIZATION_DENIED")


@pytest.fixture(scope="module")
def portal_of_a(tenant_a: tuple[ApiClient, Made]) -> str:
    """A portal token of tenant A for a subscription made just for it: none of ``made``'s ids are in its list."""
    client, _ = tenant_a
    own = client.post("/webhooks/subscriptions", {"endpointUrl": "http://127.0.0.1:9/portal", "eventTypes": ["*"]})
    reply = client.post("/webhooks/portal-sessions", {"subscriptionIds": [own.json["subscriptionId"]]})
    assert reply.status == 201, reply.body
    return str(reply.json["token"])


@pytest.mark.parametrize("op", NOT_PORTAL, ids=_label)
def test_a_portal_token_is_refused_by_every_other_operation(
    op: Operation, tenant_a: tuple[ApiClient, Made], portal_of_a: str
) -> None:
    client, made = tenant_a
    body: dict[str, Any] | None = {} if op.request_model else None  # refused before the body is read
    reply = client.request(op.method, _path(op, made.ids), json_body=body, token=portal_of_a)
    error_of(reply, 403, "AUTHORIZATION_DENIED")


@pytest.mark.parametrize("op", PORTAL_WITH_PATH_ID, ids=_label)
def test_a_portal_token_sees_nothing_outside_its_subscriptions(
    op: Operation, tenant_a: tuple[ApiClient, Made], portal_of_a: str
) -> None:
    client, made = tenant_a
    reply = client.request(op.method, _path(op, made.ids), json_body=_body(op), token=portal_of_a)
    error_of(reply, 404, "RESOURCE_NOT_FOUND")
