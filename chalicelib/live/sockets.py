"""The live WebSocket API's three routes: ``$connect``, the message route and ``$disconnect``.

Each takes API Gateway's WebSocket event as a dict and answers as the
Lambda integration must (``{"statusCode": ...}``); a refused ``$connect``
answers 401 or 403 and API Gateway rejects the handshake. Replies to frames
(``subscribed``, ``pong``, ``error``) go out through ``push.send``, since the
generated routes have no route response.
"""

from __future__ import annotations

import json
import time
from typing import Any

from chalicelib.core.config import get_settings
from chalicelib.core.errors import ApiError, NotFound, ServiceUnavailable, Unprocessable
from chalicelib.core.logging import logger
from chalicelib.live import access, frames, push, store

Reply = dict[str, Any]
OK: Reply = {"statusCode": 200}


def _connection_id(event: dict[str, Any]) -> str:
    return str(event["requestContext"]["connectionId"])


def on_connect(event: dict[str, Any]) -> Reply:
    connection_id = _connection_id(event)
    query = event.get("queryStringParameters")
    try:
        caller = access.authenticate(event.get("headers"), query)
    except ApiError as problem:
        logger.info(
            "live socket refused",
            extra={"connectionId": connection_id, "status": problem.status, "query": access.redacted(query)},
        )
        return {"statusCode": problem.status, "body": json.dumps({"message": problem.message})}
    principal = caller.principal
    store.open_socket(principal.tenant_id, connection_id, principal.subject, caller.token_expires_at, time.time())
    logger.info("live socket opened", extra={"connectionId": connection_id, "tenantId": principal.tenant_id})
    return OK


def on_disconnect(event: dict[str, Any]) -> Reply:
    connection_id = _connection_id(event)
    tenant_id = store.tenant_of(connection_id)
    if tenant_id is not None:
        store.close_socket(tenant_id, connection_id)
    return OK


def on_message(event: dict[str, Any]) -> Reply:
    connection_id = _connection_id(event)
    now = time.time()
    tenant_id = store.tenant_of(connection_id)
    socket = store.count_message(tenant_id, connection_id, now) if tenant_id is not None else None
    if socket is None:
        # Its item is not (or not yet, through the index) there: the client may send again.
        problem = ServiceUnavailable("This socket is not registered yet; send the frame again.")
        push.send(connection_id, frames.error(problem))
        return OK
    if socket.token_expired(now):
        push.close(socket, frames.CLOSE_TOKEN_EXPIRED, "The token that opened this socket has expired.")
        return OK
    limit = get_settings().live_messages_per_minute
    if socket.messages > limit:
        push.close(socket, frames.CLOSE_RATE_LIMITED, f"More than {limit} frames in a minute.")
        return OK
    try:
        reply = _answer(socket, frames.parse(event.get("body")))
    except ApiError as problem:
        reply = frames.error(problem)
    push.send(connection_id, reply)
    return OK


def _answer(socket: store.Socket, frame: frames.Subscribe | frames.Unsubscribe | frames.Ping) -> bytes:
    if isinstance(frame, frames.Ping):
        return frames.encode("pong", {})
    if isinstance(frame, frames.Unsubscribe):
        kept = [s for s in socket.subscriptions if frame.id is not None and s.id != frame.id]
        if frame.id is not None and len(kept) == len(socket.subscriptions):
            raise NotFound(f"This socket has no subscription '{frame.id}'.")
        socket.subscriptions = kept
        _save(socket)
        return frames.encode("unsubscribed", {"id": frame.id})
    subscription = frames.Subscription(id=frame.id, events=frame.events, filters=frame.filters)
    others = [s for s in socket.subscriptions if s.id != frame.id]
    if len(others) >= frames.MAX_SUBSCRIPTIONS:
        raise Unprocessable(f"A socket holds at most {frames.MAX_SUBSCRIPTIONS} subscriptions.")
    socket.subscriptions = [*others, subscription]
    _save(socket)
    return frames.encode("subscribed", subscription.model_dump(mode="json", by_alias=True, exclude_none=True))


def _save(socket: store.Socket) -> None:
    if not store.save_subscriptions(socket):
        raise ServiceUnavailable("This socket is closing.")
