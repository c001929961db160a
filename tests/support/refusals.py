"""Make one AWS operation fail, exactly where a test wants it, as AWS would answer after botocore's retries."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import ClientError


def client_error(code: str, status: int = 400, operation: str = "Call", **extra: Any) -> ClientError:
    """The error botocore raises for ``code`` (``status`` in its metadata, e.g. 500 for a service's own fault)."""
    response: dict[str, Any] = {"Error": {"Code": code, "Message": "refused by the test"}}
    response["ResponseMetadata"] = {"HTTPStatusCode": status}
    return ClientError(response | extra, operation)  # type: ignore[arg-type]


@contextmanager
def refused(
    client: Any,
    operation: str,
    error: Callable[[], BaseException],
    when: Callable[[dict[str, Any]], bool] = lambda _: True,
    times: int | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """``client``'s ``operation`` (e.g. ``"UpdateItem"``) raises ``error()`` for the calls ``when`` picks.

    At most ``times`` calls are refused (every one when ``None``); the refused calls' parameters are yielded.
    The call never reaches AWS, so a refused write has no effect.
    """
    seen: list[dict[str, Any]] = []
    service = client.meta.service_model.service_name
    event = f"before-parameter-build.{service}.{operation}"

    def refuse(params: dict[str, Any], **_: Any) -> None:
        if (times is None or len(seen) < times) and when(params):
            seen.append(params)
            raise error()

    unique = f"refused-{id(seen)}"
    client.meta.events.register(event, refuse, unique_id=unique)
    try:
        yield seen
    finally:
        client.meta.events.unregister(event, unique_id=unique)
