"""Which deployed function is calling AWS, and a record of its calls for ``make iam``.

In AWS every function calls under its own execution role. Locally all of them
share one process, one boto3 Session and one moto, so the runtime says who is
running: ``LocalFunction.invoke`` and the API's front run their handler
``acting_as`` the function, in a context variable that follows the handler into
the threads it starts with a copy of its context.

With ``IAM_CALL_LOG`` set to a directory, every call made through the app's
Session (``chalicelib.core.aws``) is appended to ``calls-<pid>.jsonl`` there:
the function, the service, the operation and only the parameters that name a
resource (table, index, queue, bus, secret, schedule, role, function, identity,
topic, stream; a shard iterator's stream). Values such as items, message bodies and secret strings are never
written. A call made under the destination writer role (``aws.as_tenant``,
whose sessions share the app Session's hooks) also names that role
(``role``): the role's policy authorizes it, not the function's, while the
function's own ``sts:AssumeRole`` is a call of its own. ``infra.iam`` turns
the records into IAM actions and resource ARNs and evaluates them against
the packaged template's policies. The event source
mappings' own calls (the pollers) do not go through the app's Session: the
check derives what Lambda needs for them from the template instead.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from chalicelib.core.aws import ASSUMED_ROLE

CALL_LOG_VARIABLE = "IAM_CALL_LOG"
# Parameters that name the resource a call acts on; everything else is left out of the record.
IDENTIFIERS = frozenset(
    {
        "TableName",
        "IndexName",
        "QueueUrl",
        "QueueName",
        "EventBusName",
        "SecretId",
        "Name",
        "GroupName",
        "Arn",
        "RoleArn",
        "RotationLambdaARN",
        "FunctionName",
        "Source",
        "ConfigurationSetName",
        "TopicArn",
        "TargetArn",
        "StreamArn",
        "StreamARN",
        "StreamName",
        "ResourceARN",  # a Kinesis stream's resource policy (GetResourcePolicy)
        "ConnectionId",  # a live socket (PostToConnection)
    }
)
# Parameters whose presence matters (an SMS goes to a phone number, not a topic; tags need TagResource)
# but whose value is private.
PRESENCE_ONLY = frozenset({"PhoneNumber", "Tags"})
# Maps keyed by a resource name (BatchGetItem/BatchWriteItem's RequestItems): the keys are kept.
KEYED_BY_RESOURCE = frozenset({"RequestItems"})
# An opaque position in a resource that names it before its first "|" (a DynamoDB stream's shard iterator):
# the name is kept, the position is not.
NAMED_BEFORE_BAR = frozenset({"ShardIterator"})

_function: ContextVar[str | None] = ContextVar("local_function", default=None)


@contextmanager
def acting_as(function: str) -> Iterator[None]:
    """Run the enclosed handler as ``function`` (its Chalice name), whose role its AWS calls use."""
    token = _function.set(function)
    try:
        yield
    finally:
        _function.reset(token)


def skeleton(value: Any, key: str | None = None) -> Any:
    """``value`` with only the resource-naming parameters kept, its shape otherwise preserved."""
    if key in PRESENCE_ONLY:
        return "present"
    if key in NAMED_BEFORE_BAR and isinstance(value, str):
        return value.split("|", 1)[0]
    if isinstance(value, dict):
        if key in KEYED_BY_RESOURCE:
            return {name: {} for name in value}
        kept = {name: skeleton(item, name) for name, item in value.items()}
        return {name: item for name, item in kept.items() if item not in (None, {}, [])}
    if isinstance(value, list):
        return [skeleton(item, key) for item in value]
    return value if key in IDENTIFIERS and isinstance(value, str) else None


class CallLog:
    """Appends one JSON line per call; one file per process, so runtimes started side by side never interleave."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"calls-{os.getpid()}.jsonl"
        self._lock = threading.Lock()

    def record(self, params: dict[str, Any], model: Any, context: dict[str, Any] | None = None, **_: Any) -> None:
        entry = {
            "function": _function.get(),
            "service": model.service_model.service_name,
            "operation": model.name,
            "params": skeleton(params),
        }
        role = (context or {}).get(ASSUMED_ROLE)
        if role:
            entry["role"] = role
        line = json.dumps(entry, sort_keys=True)
        with self._lock, self.path.open("a", encoding="utf-8") as out:
            out.write(line + "\n")


def record_calls(session: Any, environ: dict[str, str] | os._Environ[str]) -> CallLog | None:
    """Record every call of ``session``'s clients when ``IAM_CALL_LOG`` asks; None when it does not.

    Clients copy the Session's event hooks when they are created, so this runs before the first one is.
    """
    directory = environ.get(CALL_LOG_VARIABLE)
    if not directory:
        return None
    log = CallLog(Path(directory))
    session.events.register("before-parameter-build", log.record)
    return log
