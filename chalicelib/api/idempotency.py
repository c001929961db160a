"""Replaying the first response to a repeated ``Idempotency-Key``.

``routing.endpoint(idempotent=True)`` routes a request carrying the header
through ``once``: powertools records the key in the idempotency table (in
progress, then the response) and answers a repeat from the record. The record's
key hashes the tenant, method, path and key, so two tenants (or two routes)
never share a key; the payload hash is the canonical JSON of the body, so the
same key with another body is a 422 and a repeat while the first request is
still running is a 409. A failed request (any error) deletes its record, so a
retry runs again. Records expire after 24 hours.

The record is not the only memory of a keyed create: what it creates is named
by ``Call.keyed_id`` (derived from tenant, route and key) and written
conditionally, so the resource itself is found again when its record is not
(docs/reliability.md "Idempotency-Key under faults"). That covers the record
failing to save after the effect (the first answer is still given, and the
in-progress record is dropped so a repeat reconciles at once) and a Lambda
dying in between (the in-progress record expires with the invocation, then a
repeat reconciles). Either way a repeat gets the same resource, never a second.

Fields that a creation shows once (a generated secret, a new API key) are
dropped from the record: a replay never shows them again and they never reach
DynamoDB.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chalice.app import Response

from chalicelib.api.rendering import REPLAYED_HEADER
from chalicelib.core import aws
from chalicelib.core.config import get_settings
from chalicelib.core.errors import (
    FieldError,
    IdempotencyInProgress,
    IdempotencyKeyReused,
    ValidationFailed,
)
from chalicelib.core.logging import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

EXPIRES_AFTER_SECONDS = 24 * 3600
MAX_KEY_LENGTH = 255
# A portal session's token (and the link that carries it) is a credential too: a replay answers without them.
ONCE_ONLY_FIELDS = frozenset({"apiKey", "webhookSecret", "signingSecret", "token", "portalUrl"})
_layers: dict[tuple[str, int], DynamoDBPersistenceLayer] = {}
_lock = threading.Lock()


def check_key(key: str) -> None:
    if not 0 < len(key) <= MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationFailed(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters.",
            [FieldError("Idempotency-Key", "invalid header value")],
        )


def _layer() -> DynamoDBPersistenceLayer:
    """One layer per table and client: it uses the shared client from ``core.aws``, whichever that is now."""
    table, client = get_settings().table_name("idempotency"), aws.dynamodb()
    layer = _layers.get((table, id(client)))
    if layer is None:
        from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

        with _lock:
            layer = _layers.setdefault(
                (table, id(client)),
                DynamoDBPersistenceLayer(
                    table_name=table, key_attr="id", expiry_attr="expiration", boto3_client=client
                ),
            )
    return layer


def _fingerprint(body: bytes) -> str:
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = body
    return hashlib.sha256(canonical).hexdigest()


def _record(response: Response) -> dict[str, Any]:
    body = response.body
    if isinstance(body, bytes):
        body = body.decode()
    if isinstance(body, str) and body.startswith("{"):
        document = json.loads(body)
        if ONCE_ONLY_FIELDS & set(document):
            body = json.dumps({k: v for k, v in document.items() if k not in ONCE_ONLY_FIELDS}, separators=(",", ":"))
    return {"status": response.status_code, "body": body or "", "headers": dict(response.headers)}


def _forget(layer: DynamoDBPersistenceLayer, payload: dict[str, Any], cause: Exception) -> None:
    """The effect is done but its record was not saved: drop the in-progress record so that a repeat reconciles
    from the resource at once instead of answering 409 until the invocation's time runs out."""
    logger.warning("the idempotency record was not saved; a repeat finds the resource instead", exc_info=cause)
    try:
        layer.delete_record(data=payload, exception=cause)
    except Exception:
        logger.warning("the in-progress idempotency record stays until it expires", exc_info=True)


def once(
    tenant_id: str,
    method: str,
    path: str,
    key: str,
    body: bytes,
    produce: Callable[[], Response],
    lambda_context: Any = None,
) -> Response:
    check_key(key)
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig
    from aws_lambda_powertools.utilities.idempotency.base import IdempotencyHandler
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyPersistenceLayerError,
        IdempotencyValidationError,
    )

    scoped = hashlib.sha256("\0".join((tenant_id, method, path, key)).encode()).hexdigest()
    config = IdempotencyConfig(
        event_key_jmespath="key",
        payload_validation_jmespath="request",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=EXPIRES_AFTER_SECONDS,
    )
    if callable(getattr(lambda_context, "get_remaining_time_in_millis", None)):
        # An in-progress record then expires with the invocation, so a crashed request does not block its key.
        config.register_lambda_context(lambda_context)
    produced: list[Response] = []
    failed: list[Exception] = []

    def first() -> dict[str, Any]:
        try:
            response = produce()
        except Exception as exc:
            failed.append(exc)
            raise
        produced.append(response)
        return _record(response)

    payload = {"key": scoped, "request": _fingerprint(body)}
    layer = _layer()
    handler = IdempotencyHandler(
        function=first,
        function_payload=payload,
        config=config,
        persistence_store=layer,
        key_prefix="api",
        function_args=(),
        function_kwargs={},
    )
    try:
        recorded: dict[str, Any] = handler.handle()
    except IdempotencyPersistenceLayerError as exc:
        if failed:  # the request's own error stands; its in-progress record expires with the invocation
            raise failed[0] from None
        if not produced:  # the in-progress record could not be written: nothing ran (503 if that is transient)
            raise
        _forget(layer, payload, exc)
        return produced[0]
    except IdempotencyValidationError as exc:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used with a different request body.",
            [FieldError("Idempotency-Key", "reused with a different body")],
        ) from exc
    except IdempotencyAlreadyInProgressError as exc:
        raise IdempotencyInProgress(
            "A request with this Idempotency-Key is still in progress; retry shortly.",
            [FieldError("Idempotency-Key", "in progress")],
            headers={"Retry-After": "1"},
        ) from exc
    if produced:
        return produced[0]
    headers = {str(k): str(v) for k, v in recorded["headers"].items()}
    return Response(
        body=recorded["body"], status_code=int(recorded["status"]), headers={**headers, REPLAYED_HEADER: "true"}
    )
