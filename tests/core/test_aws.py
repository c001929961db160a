"""The one client factory: one client per service and endpoint, made once per process."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from botocore.exceptions import ClientError

from chalicelib.core import aws
from chalicelib.core.config import get_settings


def test_a_service_client_is_made_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    assert aws.sqs() is aws.sqs()


def test_the_live_client_follows_its_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two live APIs in one process (two test servers on one worker) each get their own client: with one client per
    service, the second one's frames went to the first one's address and were lost."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("LIVE_ENDPOINT_URL", "http://127.0.0.1:9")
    first = aws.live_connections()
    monkeypatch.setenv("LIVE_ENDPOINT_URL", "http://127.0.0.1:10")
    second = aws.live_connections()
    assert (first.meta.endpoint_url, second.meta.endpoint_url) == ("http://127.0.0.1:9", "http://127.0.0.1:10")
    assert aws.live_connections() is second


@pytest.fixture
def moto(request: pytest.FixtureRequest) -> None:
    request.getfixturevalue("aws")  # the suite's moto, named so it does not shadow chalicelib.core.aws


@contextmanager
def assume_role_calls() -> Iterator[list[dict[str, Any]]]:
    """The AssumeRole requests the STS clients made meanwhile (their hooks come from the platform Session)."""
    sent: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        sent.append(params)

    aws.session().events.register("before-parameter-build.sts.AssumeRole", record)
    try:
        yield sent
    finally:
        aws.session().events.unregister("before-parameter-build.sts.AssumeRole", record)


def test_a_tenant_client_runs_under_the_writer_role_tagged_with_the_tenant(moto: None) -> None:
    """The session is the writer role's, named for the tenant, and AssumeRole carries the ``tenantId`` tag that
    resource policies condition on (the request as botocore sends it: moto keeps no session tags)."""
    tenant = "tenant-tagged:1"
    with assume_role_calls() as sent:
        identity = aws.as_tenant("sts", tenant).get_caller_identity()
    role_name = get_settings().destination_role_arn.rsplit("/", 1)[1]
    assert identity["Arn"].split(":")[5] == f"assumed-role/{role_name}/{aws.session_name(tenant)}"
    assert [(p["RoleArn"], p["Tags"]) for p in sent] == [
        (get_settings().destination_role_arn, [{"Key": "tenantId", "Value": tenant}])
    ]


def test_a_tenant_client_is_made_once_per_service_and_tenant(moto: None) -> None:
    first = aws.as_tenant("sqs", "tenant-one")
    assert aws.as_tenant("sqs", "tenant-one") is first
    assert aws.as_tenant("sqs", "tenant-two") is not first
    assert aws.as_tenant("sns", "tenant-one") is not first


def test_the_role_is_assumed_once_and_its_credentials_kept(moto: None) -> None:
    """botocore's deferred credentials: the first call assumes the role, later calls (any service) reuse it."""
    with assume_role_calls() as sent:
        for _ in range(3):
            aws.as_tenant("sqs", "tenant-once").list_queues()
        aws.as_tenant("sns", "tenant-once").list_topics()
    assert len(sent) == 1


@pytest.mark.parametrize(
    ("tenant", "name"),
    [
        ("acme", "tenant-acme"),
        ("acme:eu", "tenant-acme-eu-"),
        ("a" * 80, "tenant-" + "a" * 48 + "-"),
    ],
)
def test_the_session_name_is_one_sts_accepts(tenant: str, name: str) -> None:
    made = aws.session_name(tenant)
    assert made.startswith(name) and len(made) <= 64
    assert re.fullmatch(r"[\w+=,.@-]{2,64}", made)
    assert aws.session_name(tenant + "x") != made


def test_a_refused_assume_role_fails_the_call_naming_sts(moto: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """STS itself failing (here every attempt throttled, AWS_FAULTS on sts) reaches the caller as AssumeRole's
    error: the fault injector is on the STS client the credentials use, and on the tenant's client."""
    monkeypatch.setattr("botocore.retries.standard.ExponentialBackoff.delay_amount", lambda *_: 0)
    monkeypatch.setenv("AWS_FAULTS", "sts=1")
    monkeypatch.setenv("AWS_FAULTS_SEED", "1")
    aws.reset_clients()
    try:
        with pytest.raises(ClientError) as caught:
            aws.as_tenant("sqs", "tenant-sts-down").list_queues()
        assert caught.value.operation_name == "AssumeRole"
    finally:
        monkeypatch.undo()
        aws.reset_clients()


def test_only_the_most_recent_tenants_keep_a_client(moto: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """A warm container serving many tenants keeps a bounded number of clients and role sessions."""
    monkeypatch.setattr(aws, "TENANT_CACHE_SIZE", 2)
    one, two = aws.as_tenant("sqs", "tenant-lru-1"), aws.as_tenant("sqs", "tenant-lru-2")
    assert aws.as_tenant("sqs", "tenant-lru-1") is one  # used again: now the most recent
    three = aws.as_tenant("sqs", "tenant-lru-3")  # evicts tenant-lru-2, the least recent
    assert aws.as_tenant("sqs", "tenant-lru-3") is three
    assert aws.as_tenant("sqs", "tenant-lru-2") is not two  # made again (evicting tenant-lru-1)
    assert aws.as_tenant("sqs", "tenant-lru-3") is three
    assert aws.as_tenant("sqs", "tenant-lru-1") is not one
