"""Over the local runtime: an ordered subscription keeps its order while a message fails and is retried.

The runtime's own pollers drive the FIFO queue (moto hands out a group's
messages in order and none while one is in flight); the receiver fails the
second of five events twice, so it must see 1, 2, 2, 2, 3, 4, 5.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from tests.e2e.conftest import start_runtime
from tests.support.receiver import serve_receiver
from tests.support.waiting import poll


def test_order_is_kept_under_injected_failures(tmp_path: Path) -> None:
    runtime = start_runtime(tmp_path, WEBHOOK_RETRY_SCHEDULE="1,1,1", WEBHOOK_RETRY_JITTER="0")
    try:
        token = runtime.token(f"tenant-{secrets.token_hex(4)}")
        with serve_receiver() as receiver:
            created = runtime.request(
                "POST",
                "/webhooks/subscriptions",
                token=token,
                json_body={"eventTypes": ["Ordered.*"], "endpointUrl": receiver.url, "delivery": "ordered"},
            )
            assert created.status == 201, created.body
            receiver.trust(created.json["signingSecret"])
            receiver.behaviour.fail_first["Ordered.Step2"] = 2
            ids = []
            for n in range(1, 6):
                body = {"type": f"Ordered.Step{n}", "data": {"n": n}}
                reply = runtime.request("POST", "/events", token=token, json_body=body)
                assert reply.status in (200, 201), reply.body
                ids.append(reply.json["eventId"])
            poll(
                lambda: len(receiver.accepted()) >= 5,
                "five ordered deliveries",
                explain=lambda: (
                    f"received: {[(r.message_id, r.answered) for r in receiver.received]}\n"
                    f"runtime log:\n{runtime.output_tail()}"
                ),
            )
            assert receiver.verification_errors == []
            assert [r.message_id for r in receiver.received] == [ids[0], ids[1], ids[1], ids[1], *ids[2:]]
            assert [r.answered for r in receiver.received] == [200, 500, 500, 200, 200, 200, 200]
    finally:
        runtime.stop()
