"""Rate limits: per tenant, per API key and per inbound connection; one atomic update; headers; 429 shape."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from chalicelib.core import aws
from chalicelib.core.config import get_settings
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


def test_a_warm_container_writes_at_most_once_per_interval_for_both_limits(
    client: ApiClient, limits: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """N requests in one interval: one ``UpdateItem``, the tenant's and the key's counters in it, nothing else."""
    key = client.post("/auth/api-keys", {"name": "k", "scopes": ["integration.providers.read"]}).json["apiKey"]
    monkeypatch.setattr(limiter, "FLUSH_SECONDS", 3600.0)  # "one interval", however slow this machine is
    replies: list[Reply] = []

    def burst() -> None:
        replies.extend(client.get("/integrations/providers", token="", headers={"X-API-Key": key}) for _ in range(10))
        replies.extend(client.get("/integrations/providers") for _ in range(10))

    with limits(tenant=100, key=50):
        writes = updates_to_rate_limits(burst)
    assert [quota(r)[:2] for r in replies[:10]] == [(50, 50 - n) for n in range(1, 11)]
    assert [quota(r)[:2] for r in replies[10:]] == [(100, 100 - n) for n in range(11, 21)]
    assert writes == 1  # the first request of the window; the other 19 are counted in memory


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


def test_limiter_windows_reset(local_api: object, limits: Any) -> None:
    with limits(inbound=1):
        start = 1_000_000 * limiter.WINDOW_SECONDS
        assert limiter.for_inbound("tenant-w", "conn-w", start + 1) == limiter.Quota(1, 0, start + 60)
        with pytest.raises(RateLimitExceeded) as refused:
            limiter.for_inbound("tenant-w", "conn-w", start + 50)
        assert refused.value.headers["Retry-After"] == "10"
        assert limiter.for_inbound("tenant-w", "conn-w", start + 60) == limiter.Quota(1, 0, start + 120)


def window_total(key: str) -> int:
    item = aws.dynamodb().get_item(
        TableName=get_settings().table_name("rate-limits"), Key={"bucket": {"S": key}}, ConsistentRead=True
    )
    return int(item["Item"]["deliveries"]["N"])


def test_a_burst_across_containers_is_refused_within_one_interval_of_slack(
    local_api: object, limits: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three warm containers, 10 requests a second each: past the limit, a container refuses within one interval."""
    containers = [limiter.Counts() for _ in range(3)]
    start = 2_000_000 * limiter.WINDOW_SECONDS
    admitted: list[float] = []
    with limits(inbound=100):
        for tick in range(200):  # 20 s; every container sees every third request
            moment = start + tick * 0.1
            monkeypatch.setattr(limiter, "COUNTS", containers[tick % 3])
            try:
                limiter.for_inbound("tenant-burst", "conn-burst", moment)
                admitted.append(moment)
            except RateLimitExceeded:
                pass
    slack = 2 * 10 * limiter.FLUSH_SECONDS  # what the two other containers can count in one interval
    assert 100 <= len(admitted) <= 100 + slack
    passed_at = start + 100 * 0.1  # the 101st request: the shared count passed the limit
    assert max(admitted) <= passed_at + limiter.FLUSH_SECONDS  # every container refuses within one interval
    assert window_total(f"tenant-burst#inbound#conn-burst#{start // limiter.WINDOW_SECONDS}") <= 200


def test_counts_from_many_threads_all_reach_the_window(
    local_api: object, limits: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limiter, "COUNTS", limiter.Counts())
    monkeypatch.setattr(limiter, "FLUSH_SECONDS", 0.0)  # every request flushes unless a flush is under way
    start = 3_000_000 * limiter.WINDOW_SECONDS

    def hammer(offset: int) -> None:
        for n in range(50):
            limiter.for_inbound("tenant-threads", "conn-threads", start + offset * 0.001 + n * 0.01)

    with limits(inbound=1_000_000):
        threads = [threading.Thread(target=hammer, args=(t,)) for t in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        last = limiter.for_inbound("tenant-threads", "conn-threads", start + 5)  # flushes what is still held
    assert last is not None and last.remaining == 1_000_000 - 401
    assert window_total(f"tenant-threads#inbound#conn-threads#{start // limiter.WINDOW_SECONDS}") == 401


def test_a_failed_flush_fails_no_request_and_its_counts_go_with_the_next(
    local_api: object, limits: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limiter, "COUNTS", limiter.Counts())
    start = 4_000_000 * limiter.WINDOW_SECONDS
    key = f"tenant-fail#inbound#conn-fail#{start // limiter.WINDOW_SECONDS}"
    refused: list[str] = []

    def throttle(params: dict[str, Any], **_: Any) -> None:
        if params.get("TableName", "").endswith("-rate-limits"):
            refused.append(params["TableName"])
            code, message = "ProvisionedThroughputExceededException", "Rate of requests exceeds"
            raise ClientError({"Error": {"Code": code, "Message": message}}, "UpdateItem")

    events = aws.dynamodb().meta.events
    with limits(inbound=3):
        events.register("before-parameter-build.dynamodb.UpdateItem", throttle, unique_id="throttle-limits")
        try:
            seen = [limiter.for_inbound("tenant-fail", "conn-fail", start + n * 0.5) for n in range(3)]
            with pytest.raises(RateLimitExceeded):  # decided on the container's own count while the table refuses
                limiter.for_inbound("tenant-fail", "conn-fail", start + 1.6)
        finally:
            events.unregister("before-parameter-build.dynamodb.UpdateItem", unique_id="throttle-limits")
        assert [q.remaining for q in seen if q is not None] == [2, 1, 0] and len(refused) == 2
        with pytest.raises(RateLimitExceeded):
            limiter.for_inbound("tenant-fail", "conn-fail", start + 3)
    assert window_total(key) == 5  # the four held through two failed flushes, and this one
