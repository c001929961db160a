"""Posting frames to sockets through API Gateway's management API, and the events stream's push.

``push_event`` is called by the events stream handler after the event's
deliveries were queued (``chalicelib.outbound.stream``), ``push_attempt`` by the
dispatcher after an attempt was logged (``chalicelib.outbound.dispatcher``). It never raises: a
socket that is gone (410) is forgotten, any other failure is logged and the
next socket is tried, so a push can neither block nor lose the event's
webhook, queue or bus deliveries. Pushes are at most once per stream read
(a stream retry after a later failure may push an event again; frames carry
the event id for the client to drop a repeat).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.core import aws
from chalicelib.core.config import get_settings
from chalicelib.core.logging import logger
from chalicelib.events.models import PlatformEvent
from chalicelib.live import frames, matching, store
from chalicelib.outbound.models import Attempt

GONE = "GoneException"


def send(connection_id: str, frame: bytes) -> bool:
    """Post one frame; False when the socket is gone (410). Other failures raise."""
    client = aws.live_connections()
    try:
        client.post_to_connection(ConnectionId=connection_id, Data=frame)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == GONE:
            return False
        raise
    return True


def close(socket: store.Socket, code: int, reason: str) -> None:
    """Tell the client why (a ``close`` frame with the code), then close the socket and forget it."""
    try:
        if send(socket.connection_id, frames.close(code, reason)):
            aws.live_connections().delete_connection(ConnectionId=socket.connection_id)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != GONE:
            raise
    store.close_socket(socket.tenant_id, socket.connection_id)


def push_event(event: PlatformEvent) -> int:
    """Push the event to its tenant's matching sockets; the number of frames posted. Never raises.

    Without ``LIVE_ENDPOINT_URL`` (no WebSocket API, e.g. ``chalice local``) nothing is read or pushed.
    """
    return _push(event.tenant_id, event.event_id, lambda socket: matching.frames_for(event, socket.subscriptions))


def push_attempt(tenant_id: str, attempt: Attempt) -> int:
    """Push a webhook delivery attempt (``delivery.attempt``), as ``push_event`` does an event; never raises."""
    view = [matching.attempt_view(attempt)]
    return _push(
        tenant_id,
        attempt.event_id,
        lambda socket: matching.matching_frames(attempt.event_id, attempt.attempted_at, view, socket.subscriptions),
    )


def _push(tenant_id: str, event_id: str, frames_of: Callable[[store.Socket], list[bytes]]) -> int:
    if not get_settings().live_endpoint_url:
        return 0
    try:
        sockets = store.tenant_sockets(tenant_id)
    except (ClientError, BotoCoreError):
        logger.warning("live sockets could not be read; nothing pushed", extra={"eventId": event_id})
        return 0
    posted = 0
    now = time.time()
    for socket in sockets:
        try:
            if socket.token_expired(now):
                close(socket, frames.CLOSE_TOKEN_EXPIRED, "The token that opened this socket has expired.")
                continue
            for frame in frames_of(socket):
                if not send(socket.connection_id, frame):
                    store.close_socket(socket.tenant_id, socket.connection_id)
                    break
                posted += 1
        except Exception as exc:  # any failure of one socket's push must leave the others and the event
            logger.warning(
                "live push failed",
                extra={"eventId": event_id, "connectionId": socket.connection_id, "error": type(exc).__name__},
            )
    return posted
