"""Live: what the events stream handler adds per event, and what live delivery costs (docs/live.md).

In process, on moto: ``chalicelib.live.push.push_event`` is the only thing the
live feature adds to the events stream handler, so its time per event is the
added time. With no socket open it is one small Query per tenant per
``CACHE_SECONDS`` per container (cached), then nothing. With one subscribed
socket each frame is one ``PostToConnection`` to the local runtime's
``@connections`` API over HTTP on 127.0.0.1 (a real round trip, but a short
one: in AWS an in-region call takes longer, so the dollars are also given at
an assumed ``AWS_POST_MS``). A socket's session (open, subscribe, close) runs
the three real handlers and counts their AWS calls.

    .venv/bin/python -m bench.live [--events 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from collections import Counter
from typing import Any

from bench import environment, prices, stack

environment.apply()
AWS_POST_MS = 15.0  # assumed in-region PostToConnection round trip, for the Lambda-time line
NEAR_ZERO_MS = 0.05  # the target for the added time per event with no socket open, once the tenant is cached


class Sink:
    """A client socket as the gateway writes to it: counts frames."""

    def __init__(self) -> None:
        self.frames = 0

    def send(self, message: str, /) -> None:
        self.frames += 1

    def close(self, code: int, reason: str, /) -> None:
        pass


def lambda_dollars(milliseconds: float) -> float:
    """Milliseconds of the events stream function (where the push happens), at its declared memory."""
    return milliseconds / 1000 * stack.memory_mb("events_stream") / 1024 * prices.LAMBDA_PER_GB_SECOND


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=1000)
    args = parser.parse_args()

    from moto import mock_aws

    with mock_aws():
        from app import app
        from chalicelib.auth import api_keys
        from chalicelib.auth.api_key_models import CreateApiKeyRequest, CreatedApiKey
        from chalicelib.auth.principal import ALL_SCOPES, Principal
        from chalicelib.core import aws
        from chalicelib.core.config import get_settings
        from chalicelib.events.emit import new_event
        from chalicelib.live import push, store
        from infra.local.live import LiveGateway
        from infra.local.provision import provision
        from infra.local.server import LocalHttpServer

        provision(get_settings().resource_prefix)
        calls: Counter[str] = Counter()
        aws.dynamodb().meta.events.register("before-call", lambda event_name, **_: calls.update([event_name]))
        events = [new_event("tenant-bench", "OrderShipped", {"n": n}, source="bench") for n in range(args.events)]

        def timed() -> list[float]:
            """Each event's push time, ms: the first one reads the tenant's sockets, the others use the cache."""
            times = []
            for event in events:
                started = time.perf_counter()
                push.push_event(event)
                times.append((time.perf_counter() - started) * 1000)
            return times

        def per_event_ms() -> float:
            times = timed()
            return sum(times) / len(times)

        os.environ.pop("LIVE_ENDPOINT_URL", None)
        unset = per_event_ms()
        server = LocalHttpServer(0)
        address = f"127.0.0.1:{server.server_address[1]}"
        gateway = LiveGateway(app, "dev", get_settings().region, address)
        server.attach(None, {}, None, gateway)  # type: ignore[arg-type]  # only /ws and @connections are used
        threading.Thread(target=server.serve_forever, daemon=True).start()
        os.environ["LIVE_ENDPOINT_URL"] = f"http://{address}"
        store.forget()
        calls.clear()
        first, *cached = timed()
        no_socket = sum([first, *cached]) / len(events)
        steady = sum(cached) / len(cached)
        queries = calls["before-call.dynamodb.Query"]

        owner = Principal("tenant-bench", "bench", frozenset(ALL_SCOPES))
        made, _ = api_keys.create(owner, CreateApiKeyRequest(name="live bench", scopes=["events.read"]))
        assert isinstance(made, CreatedApiKey) and made.api_key is not None
        key = made.api_key
        calls.clear()
        connection_id, reply = gateway.connect({"X-API-Key": key}, {}, "127.0.0.1")
        assert reply.status == 200, reply.body
        sink = Sink()
        gateway.attach(connection_id, sink, "127.0.0.1")
        gateway.receive(connection_id, json.dumps({"action": "subscribe"}))
        session_calls = dict(calls)
        one_socket = per_event_ms()
        frames = sink.frames - 1  # the subscribe's reply
        calls.clear()
        gateway.disconnect(connection_id, 1000, "")
        session_calls = dict(Counter(session_calls) + calls)
        server.shutdown()

    post_ms = one_socket - no_socket
    per_million_frames = prices.WEBSOCKET_PER_MESSAGE * prices.MILLION
    lambda_here = lambda_dollars(post_ms) * prices.MILLION
    lambda_aws = lambda_dollars(AWS_POST_MS) * prices.MILLION
    minutes = prices.WEBSOCKET_PER_CONNECTION_MINUTE * prices.MILLION
    print(f"stream handler, added time per event, no WebSocket API (LIVE_ENDPOINT_URL unset): {unset:.4f} ms")
    print(f"stream handler, added time per event, no socket open: {no_socket:.4f} ms over {len(events)} events")
    print(f"  the first (one Query of the tenant's sockets): {first:.3f} ms; each later one (cached): {steady:.4f} ms")
    print(f"  live-connections Queries for those {len(events)} events of one tenant: {queries} (cached per container)")
    print(f"one subscribed socket: {one_socket:.3f} ms per event, {frames} frames posted")
    print(f"  PostToConnection here (127.0.0.1): {post_ms:.3f} ms per frame")
    print(f"socket session (connect, subscribe, disconnect) DynamoDB calls: {session_calls}")
    print(f"$ per million frames: messages {per_million_frames:.2f} + Lambda {lambda_here:.3f} (here)")
    print(f"  or + Lambda {lambda_aws:.3f} at an assumed {AWS_POST_MS:.0f} ms in-region post")
    print(f"$ per million connection-minutes: {minutes:.2f}")
    target = "met" if steady <= NEAR_ZERO_MS else "MISSED"
    print(f"added time with no socket, cached, <= {NEAR_ZERO_MS} ms per event -> {target}")
    result: dict[str, Any] = {
        "noSocketMs": round(no_socket, 4),
        "noSocketFirstMs": round(first, 3),
        "noSocketCachedMs": round(steady, 4),
        "unsetMs": round(unset, 4),
        "queries": queries,
        "events": len(events),
        "postMs": round(post_ms, 3),
        "dollarsPerMillionFrames": round(per_million_frames + lambda_aws, 2),
        "dollarsPerMillionConnectionMinutes": round(minutes, 2),
    }
    print("RESULT " + json.dumps(result))
    return 0 if steady <= NEAR_ZERO_MS else 1


if __name__ == "__main__":
    sys.exit(main())
