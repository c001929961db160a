"""Rehearsing failure: injected AWS faults and crash points (docs/reliability.md).

The platform promises that nothing it accepted is ever lost. Two tools let the
tests and ``make run`` check that promise against the failures AWS and Lambda
really produce, without changing a line of the code under test:

* ``AWS_FAULTS="dynamodb=0.1,sqs=0.1"`` (with ``AWS_FAULTS_SEED``) makes that
  fraction of each service's HTTP attempts fail with a throttling error, a 500
  or a timeout, until the file ``AWS_FAULTS_STOP_FILE`` names exists (if set).
  The faults are injected below botocore's retry loop, on the
  clients ``chalicelib.core.aws`` creates (never on moto's own), so botocore
  retries and parses them exactly as it would the real thing. An injected fault
  never reaches AWS: the call has no effect.
* ``AWS_FAULTS_DENY_FILE`` names a file of resource ARNs, one a line: a call
  whose parameters name one of them (the ARN, or an SQS queue's URL) answers
  ``AccessDenied`` (403) as AWS does when a resource policy refuses, without
  reaching AWS. The file is read again whenever it changes, so a test revokes
  and restores a tenant's grant while the platform runs (moto evaluates no
  resource policy on a write, so it never refuses one by itself).
* ``crash_after(n)`` ends the current thread's handler right after its n-th AWS
  call, as a Lambda timeout or out-of-memory would. ``LambdaCrashed`` derives
  from ``BaseException`` so no ``except Exception`` of ours can swallow it, and
  any further AWS call from that thread raises it again: a dead Lambda makes no
  more calls. This is a test and rehearsal tool; nothing in production arms it.
"""

from __future__ import annotations

import io
import json
import os
import random
import threading
import uuid
import weakref
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from chalicelib.core.logging import logger

SPEC_VARIABLE = "AWS_FAULTS"
SEED_VARIABLE = "AWS_FAULTS_SEED"
STOP_VARIABLE = "AWS_FAULTS_STOP_FILE"
DENY_VARIABLE = "AWS_FAULTS_DENY_FILE"
KINDS = ("throttle", "internal", "timeout")
TIMEOUTS = ("read-timeout", "connect-timeout")
HOOK_ID = "aws-faults"  # the ``unique_id`` of the injector's handler on a client

# The codes each service really answers with; botocore's standard retry mode knows them all.
_THROTTLE_CODES = {"dynamodb": "ProvisionedThroughputExceededException", "sqs": "RequestThrottled"}
_INTERNAL_CODES = {
    "dynamodb": "InternalServerError",
    "dynamodbstreams": "InternalServerError",
    "secretsmanager": "InternalServiceError",
    "events": "InternalException",
    "scheduler": "InternalServerException",
}
# Nothing answers here: a faulted request is pointed at it so that no later
# ``before-send`` handler (moto's in-process mock, under ``mock_aws``) applies it.
_NOWHERE = "https://aws-fault-injected.invalid/"


class FaultSpecError(ValueError):
    """``AWS_FAULTS`` or ``AWS_FAULTS_SEED`` cannot be understood; the message says which part and why."""


@dataclass(frozen=True)
class Faults:
    """What to inject: a fraction of HTTP attempts per service name, and the seed that makes it repeatable."""

    rates: Mapping[str, float]
    seed: int
    stop_file: str | None = None  # once this file exists, nothing more is injected (the faults "stop")

    def describe(self) -> str:
        rates = ",".join(f"{service}={rate:g}" for service, rate in self.rates.items())
        stop = f" {STOP_VARIABLE}={self.stop_file}" if self.stop_file else ""
        return f"{SPEC_VARIABLE}={rates} {SEED_VARIABLE}={self.seed}{stop}"


def parse(spec: str, known_services: Collection[str]) -> dict[str, float]:
    """``"dynamodb=0.1,sqs=0.05"`` as ``{"dynamodb": 0.1, "sqs": 0.05}``; a bad part raises ``FaultSpecError``."""
    rates: dict[str, float] = {}
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        service, sep, raw = (s.strip() for s in part.partition("="))
        if not sep or not service or not raw:
            raise FaultSpecError(f"{SPEC_VARIABLE}: {part!r} is not service=fraction (e.g. dynamodb=0.1)")
        if service not in known_services:
            raise FaultSpecError(f"{SPEC_VARIABLE}: unknown service {service!r} (use boto3 names such as dynamodb)")
        if service in rates:
            raise FaultSpecError(f"{SPEC_VARIABLE}: {service!r} is given twice")
        try:
            rate = float(raw)
        except ValueError:
            rate = -1.0
        if not 0.0 <= rate <= 1.0:
            raise FaultSpecError(
                f"{SPEC_VARIABLE}: the fraction for {service!r} must be a number from 0 to 1, not {raw!r}"
            )
        rates[service] = rate
    if not rates:
        raise FaultSpecError(f"{SPEC_VARIABLE}: no service=fraction given (unset it to turn faults off)")
    return rates


def from_environment(environ: Mapping[str, str], known_services: Callable[[], Collection[str]]) -> Faults | None:
    """The switch as set in ``environ``; None (inject nothing) when ``AWS_FAULTS`` is unset or empty.

    Without ``AWS_FAULTS_SEED`` a seed is drawn and logged, so any run can be replayed.
    """
    spec = environ.get(SPEC_VARIABLE, "").strip()
    if not spec:
        return None
    rates = parse(spec, known_services())
    raw_seed = environ.get(SEED_VARIABLE, "").strip()
    try:
        seed = int(raw_seed) if raw_seed else random.SystemRandom().randrange(2**31)
    except ValueError:
        raise FaultSpecError(f"{SEED_VARIABLE} must be an integer, not {raw_seed!r}") from None
    faults = Faults(rates, seed, environ.get(STOP_VARIABLE, "").strip() or None)
    logger.warning("AWS fault injection is on", extra={"faults": faults.describe()})
    return faults


class _Body(io.BytesIO):
    """The raw stream ``AWSResponse`` reads a body from."""

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.getvalue()


class FaultInjector:
    """Draws, per HTTP attempt, whether a client's request fails and how.

    Each service has its own generator seeded from ``(seed, service)``, so a
    service's sequence of faults does not depend on how its calls interleave
    with other services' calls.
    """

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self._lock = threading.Lock()
        self._random = {service: random.Random(f"{faults.seed}/{service}") for service in faults.rates}
        self._stopped = False

    def stopped(self) -> bool:
        """The stop file exists (checked per attempt until it does, then never again): inject nothing more."""
        if not self._stopped and self.faults.stop_file is not None and os.path.exists(self.faults.stop_file):
            self._stopped = True
            logger.warning("AWS fault injection stopped", extra={"stopFile": self.faults.stop_file})
        return self._stopped

    def instrument(self, client: Any) -> None:
        """Hook the client's ``before-send``, first, ahead of every other handler; a no-op for other services."""
        model = client.meta.service_model
        if self.faults.rates.get(model.service_name, 0.0) <= 0.0:
            return
        client.meta.events.register_first(
            f"before-send.{model.service_id.hyphenize()}", self._handler(model), unique_id=HOOK_ID
        )

    def draw(self, service: str) -> str | None:
        """The fault kind for the next attempt on ``service``, or None to let it through."""
        if self.stopped():
            return None
        generator = self._random[service]
        with self._lock:
            if generator.random() >= self.faults.rates[service]:
                return None
            kind = generator.choice(KINDS)
            return generator.choice(TIMEOUTS) if kind == "timeout" else kind

    def _handler(self, model: Any) -> Any:
        service = model.service_name

        def before_send(request: Any, **kwargs: Any) -> Any:
            kind = self.draw(service)
            if kind is None:
                return None
            logger.info(
                "injected AWS fault", extra={"service": service, "event": kwargs.get("event_name"), "fault": kind}
            )
            return _fault(kind, model, request)

        return before_send


def _fault(kind: str, model: Any, request: Any) -> Any:
    """A timeout raised as botocore's HTTP layer would, or the error response the service would send."""
    from botocore.awsrequest import AWSResponse
    from botocore.compat import HTTPHeaders
    from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError

    url = request.url
    if kind in TIMEOUTS:
        raise (ReadTimeoutError if kind == "read-timeout" else ConnectTimeoutError)(endpoint_url=url)
    service = model.service_name
    status, code = (400, _THROTTLE_CODES.get(service, "ThrottlingException"))
    if kind == "internal":
        status, code = (500, _INTERNAL_CODES.get(service, "InternalFailure"))
    fields, body = _error_body(model, code, status, str(uuid.uuid4()))
    headers = HTTPHeaders()
    for name, value in {**fields, "Content-Length": str(len(body))}.items():
        headers[name] = value
    request.url = _NOWHERE
    return AWSResponse(url, status, headers, _Body(body))


def _error_body(model: Any, code: str, status: int, request_id: str) -> tuple[dict[str, str], bytes]:
    message = f"injected by {SPEC_VARIABLE}"
    protocol = model.protocol
    if protocol in ("json", "rest-json"):
        headers = {
            "x-amzn-RequestId": request_id,
            "x-amzn-ErrorType": code,
            "Content-Type": f"application/x-amz-json-{model.metadata.get('jsonVersion', '1.0')}",
        }
        if model.metadata.get("awsQueryCompatible") is not None:
            headers["x-amzn-query-error"] = f"{code};{'Sender' if status < 500 else 'Receiver'}"
        namespace = model.metadata.get("targetPrefix") or model.service_name
        return headers, json.dumps({"__type": f"{namespace}#{code}", "message": message}).encode()
    error = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    if protocol == "ec2":
        xml = f"<Response><Errors>{error}</Errors><RequestID>{request_id}</RequestID></Response>"
    else:
        xml = f"<ErrorResponse>{error}<RequestId>{request_id}</RequestId></ErrorResponse>"
    return {"x-amzn-RequestId": request_id, "Content-Type": "text/xml"}, xml.encode()


class Denials:
    """The ARNs ``AWS_FAULTS_DENY_FILE`` lists, answered ``AccessDenied`` on every client it is hooked to."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._read: tuple[tuple[int, ...], frozenset[str], tuple[str, ...]] = ((), frozenset(), ())

    def listed(self) -> tuple[frozenset[str], tuple[str, ...]]:
        """The listed ARNs, and the ``/<account>/<name>`` a listed SQS queue's URL ends with (none without a file)."""
        try:
            found = os.stat(self.path)
            changed = (found.st_ino, found.st_mtime_ns, found.st_size)  # a rewrite in the same tick changes one
        except FileNotFoundError:
            return frozenset(), ()
        with self._lock:
            if changed != self._read[0]:
                with open(self.path, encoding="utf-8") as listed:
                    arns = frozenset(line.strip() for line in listed if line.strip())
                queues = tuple("/" + "/".join(a.split(":")[4:6]) for a in arns if a.split(":")[2:3] == ["sqs"])
                self._read = (changed, arns, queues)
            return self._read[1], self._read[2]

    def instrument(self, client: Any) -> None:
        client.meta.events.register_first("before-parameter-build", self._check, unique_id="aws-denials-check")
        client.meta.events.register_first("before-call", self._answer, unique_id="aws-denials-answer")

    def _check(self, params: Mapping[str, Any], context: dict[str, Any], **_: Any) -> None:
        arns, queues = self.listed()
        if not arns:
            return
        named = [v for v in _strings(params) if v in arns or (queues and v.startswith("http") and v.endswith(queues))]
        if named:
            context[DENY_VARIABLE] = named[0]

    def _answer(self, model: Any, context: dict[str, Any], **_: Any) -> Any:
        from botocore.awsrequest import AWSResponse
        from botocore.compat import HTTPHeaders

        resource = context.get(DENY_VARIABLE)
        if resource is None:
            return None
        message = f"{model.name} on {resource} refused (injected by {DENY_VARIABLE})"
        logger.info("injected AWS refusal", extra={"operation": model.name, "resource": resource})
        error = {"Code": "AccessDenied", "Message": message}
        parsed = {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 403}}
        return AWSResponse(resource, 403, HTTPHeaders(), None), parsed


def _strings(value: Any) -> Iterator[str]:
    """Every string in a call's parameters, however deep (an EventBridge entry names its bus inside a list)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


class LambdaCrashed(BaseException):
    """The handler died here (a Lambda timeout or out-of-memory); nothing after it ran."""


@dataclass
class _Armed:
    remaining: int
    services: frozenset[str] | None
    crashed: bool = False


_crash = threading.local()
_crash_lock = threading.Lock()
_armed_threads = 0
_crash_clients: weakref.WeakSet[Any] = weakref.WeakSet()


def watch_for_crashes(client: Any) -> None:
    """Called by the client factory for each client, so crash points also see clients made while armed."""
    with _crash_lock:
        _crash_clients.add(client)
        if _armed_threads:
            _hook(client)


def _hook(client: Any) -> None:
    client.meta.events.register("before-call", _before_call, unique_id="crash-points-before")
    client.meta.events.register("after-call", _after_call, unique_id="crash-points-after")


def _unhook(client: Any) -> None:
    client.meta.events.unregister("before-call", unique_id="crash-points-before")
    client.meta.events.unregister("after-call", unique_id="crash-points-after")


def _armed_here() -> _Armed | None:
    armed: _Armed | None = getattr(_crash, "armed", None)
    return armed


def _before_call(model: Any, **_: Any) -> None:
    armed = _armed_here()
    if armed is not None and armed.crashed:
        raise LambdaCrashed(f"{model.service_model.service_name} {model.name} called after the crash")


def _after_call(model: Any, **_: Any) -> None:
    armed = _armed_here()
    if armed is None or armed.crashed:
        return
    service = model.service_model.service_name
    if armed.services is not None and service not in armed.services:
        return
    armed.remaining -= 1
    if armed.remaining == 0:
        armed.crashed = True
        raise LambdaCrashed(f"crashed right after {service} {model.name}")


@contextmanager
def crash_after(n_calls: int, *, services: Collection[str] | None = None) -> Iterator[None]:
    """Raise ``LambdaCrashed`` right after this thread's ``n_calls``-th answered AWS call.

    A call counts once AWS answered it, success or error (after botocore's
    retries), so a crash can land after a failed conditional write too. Only
    calls on factory clients in the current thread count, and only to
    ``services`` when given. Once crashed, every later AWS call in the block
    raises ``LambdaCrashed`` before it is sent.
    """
    global _armed_threads
    if n_calls < 1:
        raise ValueError("n_calls must be at least 1")
    if _armed_here() is not None:
        raise RuntimeError("crash_after is already armed in this thread")
    _crash.armed = _Armed(n_calls, frozenset(services) if services is not None else None)
    with _crash_lock:
        _armed_threads += 1
        if _armed_threads == 1:
            for client in list(_crash_clients):
                _hook(client)
    try:
        yield
    finally:
        del _crash.armed
        with _crash_lock:
            _armed_threads -= 1
            if _armed_threads == 0:
                for client in list(_crash_clients):
                    _unhook(client)
