"""AWS_FAULTS fails a seeded fraction of calls as AWS would; crash points end a handler between two calls."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, ConnectTimeoutError, ReadTimeoutError

from chalicelib.core import aws, faults
from chalicelib.core.config import get_settings
from chalicelib.core.faults import FaultSpecError, LambdaCrashed, crash_after
from tests.support.crashes import crash_points
from tests.support.destinations import Revocations

SERVICES = boto3.session.Session().get_available_services()


@pytest.fixture
def faulty(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Turn the switch on (or off) for the next clients; botocore's retry back-off is skipped to stay fast."""
    request.getfixturevalue("aws")  # moto, named so it does not shadow chalicelib.core.aws
    monkeypatch.setattr("botocore.retries.standard.ExponentialBackoff.delay_amount", lambda *_: 0)

    def switch(spec: str | None, seed: int = 1) -> None:
        if spec is None:
            monkeypatch.delenv(faults.SPEC_VARIABLE, raising=False)
        else:
            monkeypatch.setenv(faults.SPEC_VARIABLE, spec)
        monkeypatch.setenv(faults.SEED_VARIABLE, str(seed))
        aws.reset_clients()

    yield switch
    monkeypatch.undo()
    aws.reset_clients()


def outcome(call: Callable[[], Any]) -> str:
    try:
        call()
    except ClientError as exc:
        return str(exc.response["Error"]["Code"])
    except (ReadTimeoutError, ConnectTimeoutError) as exc:
        return type(exc).__name__
    return "ok"


def count_attempts(client: Any) -> list[str]:
    """One entry per HTTP attempt botocore prepares (retries included)."""
    seen: list[str] = []
    client.meta.events.register("request-created", lambda **kw: seen.append(kw["event_name"]))
    return seen


def hooked(client: Any) -> bool:
    """Whether the injector's handler is on the client (botocore offers no public way to list handlers)."""
    return faults.HOOK_ID in client.meta.events._emitter._unique_id_handlers


def test_the_switch_reads_a_fraction_per_service() -> None:
    assert faults.parse(" dynamodb=0.1, sqs=1 ,secretsmanager=0.05,events=0", SERVICES) == {
        "dynamodb": 0.1,
        "sqs": 1.0,
        "secretsmanager": 0.05,
        "events": 0.0,
    }


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("dynamodb", "'dynamodb' is not service=fraction"),
        ("dynamodb=", "is not service=fraction"),
        ("=0.1", "is not service=fraction"),
        ("dynamdb=0.1", "unknown service 'dynamdb'"),
        ("dynamodb=1.5", "must be a number from 0 to 1, not '1.5'"),
        ("dynamodb=-0.1", "must be a number from 0 to 1"),
        ("dynamodb=lots", "must be a number from 0 to 1, not 'lots'"),
        ("dynamodb=nan", "must be a number from 0 to 1"),
        ("dynamodb=0.1,dynamodb=0.2", "'dynamodb' is given twice"),
        (" , ", "no service=fraction given"),
    ],
)
def test_a_bad_spec_is_rejected_with_a_clear_error(spec: str, message: str) -> None:
    with pytest.raises(FaultSpecError, match=message):
        faults.parse(spec, SERVICES)


def test_the_factory_refuses_a_bad_switch_or_seed(faulty: Callable[..., None], monkeypatch: pytest.MonkeyPatch) -> None:
    faulty("dynamodb=2")
    with pytest.raises(FaultSpecError, match="AWS_FAULTS: the fraction for 'dynamodb'"):
        aws.dynamodb()
    faulty("dynamodb=0.1")
    monkeypatch.setenv(faults.SEED_VARIABLE, "abc")
    with pytest.raises(FaultSpecError, match="AWS_FAULTS_SEED must be an integer, not 'abc'"):
        aws.sqs()


def test_unset_means_no_hook_is_registered(faulty: Callable[..., None]) -> None:
    faulty(None)
    for client in (aws.dynamodb(), aws.sqs(), aws.secretsmanager()):
        assert not hooked(client)
    faulty("sqs=0.1")
    assert hooked(aws.sqs())
    assert not hooked(aws.dynamodb())


def test_a_seeded_run_is_reproducible(faulty: Callable[..., None]) -> None:
    def run(seed: int) -> list[str]:
        faulty("dynamodb=0.5", seed=seed)
        return [outcome(aws.dynamodb().list_tables) for _ in range(25)]

    first = run(7)
    assert set(first) > {"ok"}, "some calls fail, some succeed"
    assert run(7) == first
    assert run(8) != first


def test_every_call_fails_at_fraction_one_and_a_failed_write_has_no_effect(
    faulty: Callable[..., None], tenant: str
) -> None:
    table = get_settings().table_name("connections")
    item = {"tenantId": {"S": tenant}, "connectionId": {"S": "conn-1"}}
    faulty("dynamodb=1")
    attempts = count_attempts(aws.dynamodb())
    assert {outcome(lambda: aws.dynamodb().put_item(TableName=table, Item=item)) for _ in range(5)} <= {
        "ProvisionedThroughputExceededException",
        "InternalServerError",
        "ReadTimeoutError",
        "ConnectTimeoutError",
    }
    assert len(attempts) == 5 * 4, "each call is retried by botocore (standard mode: 3 retries)"
    assert outcome(aws.sqs().list_queues) == "ok", "other services are untouched"
    faulty(None)
    assert "Item" not in aws.dynamodb().get_item(TableName=table, Key=item)


def test_faults_stop_once_the_stop_file_exists(
    faulty: Callable[..., None], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    stop = tmp_path / "faults-off"
    monkeypatch.setenv(faults.STOP_VARIABLE, str(stop))
    faulty("sqs=1")
    assert outcome(aws.sqs().list_queues) != "ok"
    stop.touch()
    assert [outcome(aws.sqs().list_queues) for _ in range(3)] == ["ok"] * 3
    stop.unlink()
    assert outcome(aws.sqs().list_queues) == "ok", "stopped for good"


def test_a_listed_resource_is_refused_as_aws_refuses_a_revoked_grant_until_restored(
    faulty: Callable[..., None], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    revocations = Revocations(tmp_path / "denied")
    monkeypatch.setenv(faults.DENY_VARIABLE, str(revocations.path))
    faulty(None)
    sqs = aws.sqs()
    urls = [sqs.create_queue(QueueName=name)["QueueUrl"] for name in ("denied", "denied-not")]
    arns = [sqs.get_queue_attributes(QueueUrl=u, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"] for u in urls]
    bus = aws.events().create_event_bus(Name="denied-bus")["EventBusArn"]
    revocations.revoke(arns[0])
    revocations.revoke(bus)
    with pytest.raises(ClientError) as refused:
        sqs.send_message(QueueUrl=urls[0], MessageBody="x")
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    entry: Any = {"Source": "s", "DetailType": "t", "Detail": "{}", "EventBusName": bus}
    assert outcome(lambda: aws.events().put_events(Entries=[entry])) == "AccessDenied"
    assert outcome(lambda: sqs.send_message(QueueUrl=urls[1], MessageBody="y")) == "ok"  # "denied-not" is not listed
    revocations.restore(arns[0])
    assert outcome(lambda: sqs.send_message(QueueUrl=urls[0], MessageBody="z")) == "ok"
    received = boto3.client("sqs", region_name=get_settings().region).receive_message(
        QueueUrl=urls[0], MaxNumberOfMessages=10
    )
    assert [m["Body"] for m in received["Messages"]] == ["z"]  # the refused write never reached AWS


@pytest.mark.parametrize(
    ("service", "call", "throttle", "internal"),
    [
        ("dynamodb", "list_tables", "ProvisionedThroughputExceededException", "InternalServerError"),
        ("sqs", "list_queues", "RequestThrottled", "InternalFailure"),
        ("secretsmanager", "list_secrets", "ThrottlingException", "InternalServiceError"),
        ("events", "list_rules", "ThrottlingException", "InternalException"),
    ],
)
def test_each_kind_surfaces_as_botocore_raises_it_after_its_retries(
    faulty: Callable[..., None], service: str, call: str, throttle: str, internal: str
) -> None:
    faulty(f"{service}=1", seed=3)
    client = aws._client(service)  # events has no accessor yet: any client the factory makes is covered
    attempts = count_attempts(client)
    seen: dict[str, Exception] = {}
    for _ in range(8):
        try:
            getattr(client, call)()
        except (ClientError, ReadTimeoutError, ConnectTimeoutError) as exc:
            code = exc.response["Error"]["Code"] if isinstance(exc, ClientError) else "timeout"
            seen[code] = exc
    assert set(seen) == {throttle, internal, "timeout"}
    assert len(attempts) == 8 * 4
    throttled, failed = seen[throttle], seen[internal]
    assert isinstance(throttled, ClientError) and isinstance(failed, ClientError)
    assert throttled.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert failed.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert throttled.response["ResponseMetadata"]["RetryAttempts"] == 3
    modeled = {shape.name for shape in client.meta.service_model.error_shapes}
    if throttle in modeled:
        assert type(throttled) is getattr(client.exceptions, throttle)


def test_clients_outside_the_factory_such_as_motos_own_are_not_affected(faulty: Callable[..., None]) -> None:
    faulty("dynamodb=1")
    assert outcome(aws.dynamodb().list_tables) != "ok"
    assert outcome(boto3.client("dynamodb", region_name=get_settings().region).list_tables) == "ok"


def test_one_session_makes_every_client(faulty: Callable[..., None], monkeypatch: pytest.MonkeyPatch) -> None:
    faulty(None)
    made: list[object] = []

    class CountingSession(boto3.session.Session):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            made.append(self)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(boto3.session, "Session", CountingSession)
    threads = [threading.Thread(target=f) for f in (aws.dynamodb, aws.sqs, aws.secretsmanager) * 3]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert made == [aws.session()]
    assert aws.dynamodb() is aws.dynamodb()


def _write(tenant: str, names: list[str]) -> Callable[[], None]:
    table = get_settings().table_name("connections")

    def handler() -> None:
        for name in names:
            try:
                aws.dynamodb().put_item(TableName=table, Item={"tenantId": {"S": tenant}, "connectionId": {"S": name}})
            except Exception:  # a handler's own error handling cannot swallow a crash
                raise AssertionError("LambdaCrashed was caught as an Exception") from None

    return handler


def _stored(tenant: str) -> set[str]:
    found = aws.dynamodb().query(
        TableName=get_settings().table_name("connections"),
        KeyConditionExpression="tenantId = :t",
        ExpressionAttributeValues={":t": {"S": tenant}},
    )
    return {item["connectionId"]["S"] for item in found["Items"]}


def test_crash_after_aborts_right_after_the_nth_call(faulty: Callable[..., None], tenant: str) -> None:
    faulty(None)
    with pytest.raises(LambdaCrashed, match="crashed right after dynamodb PutItem"), crash_after(2):
        _write(tenant, ["a", "b", "c", "d"])()
    assert _stored(tenant) == {"a", "b"}, "the second write landed; nothing after it ran"


def test_after_a_crash_no_further_call_is_sent(faulty: Callable[..., None], tenant: str) -> None:
    faulty(None)
    with pytest.raises(LambdaCrashed), crash_after(1):
        try:
            _write(tenant, ["a"])()
        finally:
            _write(tenant, ["cleanup"])()  # a finally block must not reach AWS from a dead Lambda
    assert _stored(tenant) == {"a"}


def test_crash_after_counts_only_the_given_services_and_this_thread(faulty: Callable[..., None], tenant: str) -> None:
    faulty(None)
    other = threading.Thread(target=_write(tenant, ["x", "y"]))
    with pytest.raises(LambdaCrashed, match="sqs ListQueues"), crash_after(1, services={"sqs"}):
        other.start()
        other.join()
        _write(tenant, ["a", "b"])()
        aws.sqs().list_queues()
        _write(tenant, ["c"])()
    assert _stored(tenant) == {"x", "y", "a", "b"}


def test_crash_points_tries_every_crash_and_a_retry_recovers(faulty: Callable[..., None], tenant: str) -> None:
    faulty(None)
    handler = _write(tenant, ["a", "b", "c"])
    crashed = []
    for n in crash_points(handler):
        crashed.append(n)
        assert len(_stored(tenant)) >= n
        handler()  # the redelivery: the handler is idempotent, so it always ends in the final state
        assert _stored(tenant) == {"a", "b", "c"}
    assert crashed == [1, 2, 3]
