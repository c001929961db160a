"""Rate limits: per tenant, per API key and per inbound connection; one atomic update; headers; 429 shape."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.core import aws
from chalicelib.core.errors import RateLimitExceeded
from chalicelib.ratelimit import limiter
from infra.local.dev_issuer import DevIssuer
from tests.api.expect import client_for, error_of
from tests.core.env import settings_env
from tests.inbound import signers
from tests.inbound.conftest import post_delivery
from tests.support.api_client import ApiClient, Reply
from tests.support.waiting import poll

RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


@pytest.fixture(autouse=True)
def same_window() -> None:
    """A test counts within one minute window: start it early in a window, not seconds before a reset."""
    poll(lambda: time.time() % limiter.WINDOW_SECONDS < limiter.WINDOW_SECONDS - 15, "a fresh rate-limit window")


@pytest.fixture
def limits(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    def apply(**env: int) -> Any:
        return settings_env(monkeypatch, **{f"RATE_LIMIT_{k.upper()}_PER_MINUTE": str(v) for k, v in env.items()})

    yield apply


def quota(reply: Reply) -> tuple[int, int, int]:
    limit, remaining, reset = (int(reply.header(name) or -1) for name in RATE_HEADERS)
    return limit, remaining, reset


def updates_to_rate_limits(action: Any) -> int:
    calls: list[str] = []

    def hook(params: dict[str, Any], **_: Any) -> None:
        if params.get("TableName", "").endswith("-rate-limits"):
            calls.append(params["TableName"])

    events = aws.dynamodb().meta.events
    events.register("provide-client-params.dynamodb.UpdateItem", hook, unique_id="count-limits")
    try:
        action()
    finally:
        events.unregister("provide-client-params.dynamodb.UpdateItem", unique_id="count-limits")
    return len(calls)


def test_limits_are_off_by_default(client: ApiClient) -> None:
    replies: list[Reply] = []
    assert updates_to_rate_limits(lambda: replies.append(client.get("/integrations/providers"))) == 0
    assert replies[0].status == 200 and all(replies[0].header(h) is None for h in RATE_HEADERS)


def test_the_tenant_limit_counts_every_request_and_answers_429(
    client: ApiClient, local_api: Any, issuer: DevIssuer, limits: Any
) -> None:
    with limits(tenant=3):
        seen = []
        for _ in range(2):
            seen.append(client.get("/integrations/providers"))
        not_found = client.get("/integrations/providers/prov-missing")
        error_of(not_found, 404, "RESOURCE_NOT_FOUND")
        assert [quota(r)[:2] for r in [*seen, not_found]] == [(3, 2), (3, 1), (3, 0)]
        reset = quota(not_found)[2]
        assert reset % 60 == 0 and 0 < reset - time.time() <= 60
        refused = client.get("/integrations/providers")
        error = error_of(refused, 429, "RATE_LIMIT_EXCEEDED")
        retry_after = int(refused.header("Retry-After") or 0)
        assert 1 <= retry_after <= 60 and quota(refused) == (3, 0, reset)
        assert error["details"] == [{"field": "retry_after", "message": str(retry_after)}]
        assert f"retry after {retry_after} seconds" in error["message"]
        other = client_for(local_api, issuer).get("/integrations/providers")
        assert other.status == 200 and quota(other)[:2] == (3, 2)  # another tenant has its own window
        unauthenticated = client.get("/integrations/providers", token="not-a-jwt")
        assert unauthenticated.status == 401 and unauthenticated.header("X-RateLimit-Limit") is None


def test_a_request_is_one_atomic_update_even_with_both_limits(client: ApiClient, limits: Any) -> None:
    key = client.post("/auth/api-keys", {"name": "k", "scopes": ["integration.providers.read"]}).json["apiKey"]
    with limits(tenant=100, key=50):
        assert updates_to_rate_limits(lambda: client.get("/integrations/providers")) == 1
        assert (
            updates_to_rate_limits(lambda: client.get("/integrations/providers", token="", headers={"X-API-Key": key}))
            == 1
        )


def test_the_key_limit_applies_to_the_key_and_the_tenant_limit_to_all(client: ApiClient, limits: Any) -> None:
    key = client.post("/auth/api-keys", {"name": "k", "scopes": ["integration.providers.read"]}).json["apiKey"]
    with limits(tenant=10, key=2):
        as_key = [client.get("/integrations/providers", token="", headers={"X-API-Key": key}) for _ in range(3)]
        assert [r.status for r in as_key] == [200, 200, 429]
        assert [quota(r)[:2] for r in as_key] == [(2, 1), (2, 0), (2, 0)]
        bearer = client.get("/integrations/providers")
        assert bearer.status == 200 and quota(bearer)[:2] == (10, 6)  # the key's requests counted for the tenant too


def test_an_inbound_connection_has_its_own_limit(client: ApiClient, limits: Any, connect: Any) -> None:
    hook = connect()
    with limits(tenant=1000, inbound=2):

        def send(number: int, secret: str = hook.secret) -> Reply:
            body = b'{"action":"opened","number":%d}' % number
            headers = {"X-GitHub-Event": "pull_request", "X-GitHub-Delivery": f"rl-{number}"}
            return post_delivery(client, hook.connection_id, body, {**headers, **signers.github(secret, body)})

        assert send(99, secret="forged").status == 401  # a forged delivery spends nothing
        replies = [send(n) for n in range(3)]
        assert [r.status for r in replies] == [202, 202, 429]
        assert int(replies[2].header("Retry-After") or 0) >= 1 and quota(replies[2])[0] == 2
        assert client.get("/integrations/providers").status == 200  # the API budget is separate


def test_limiter_windows_reset(limits: Any) -> None:
    with limits(inbound=1):
        start = 1_000_000 * limiter.WINDOW_SECONDS
        assert limiter.for_inbound("tenant-w", "conn-w", start + 1) == limiter.Quota(1, 0, start + 60)
        with pytest.raises(RateLimitExceeded) as refused:
            limiter.for_inbound("tenant-w", "conn-w", start + 50)
        assert refused.value.headers["Retry-After"] == "10"
        assert limiter.for_inbound("tenant-w", "conn-w", start + 60) == limiter.Quota(1, 0, start + 120)
