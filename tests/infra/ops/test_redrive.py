"""``python -m infra.ops.redrive``: every dead letter back on its queue, attributes kept, counts printed."""

from __future__ import annotations

import pytest

from chalicelib.core.aws import sqs
from chalicelib.core.config import get_settings
from infra.ops import redrive

QUEUE = "outbound-dispatch"  # no dead-letter consumer: what it dead-letters waits for this command


def url(name: str) -> str:
    return sqs().get_queue_url(QueueName=name)["QueueUrl"]


def everything(name: str) -> list[dict[str, object]]:
    found: list[dict[str, object]] = []
    while (
        page := sqs()
        .receive_message(QueueUrl=url(name), MaxNumberOfMessages=10, MessageAttributeNames=["All"])
        .get("Messages", [])
    ):
        found += [dict(m) for m in page]
        for message in page:
            sqs().delete_message(QueueUrl=url(name), ReceiptHandle=message["ReceiptHandle"])
    return found


def test_every_message_of_the_dlq_moves_back_to_its_queue(aws: None, capsys: pytest.CaptureFixture[str]) -> None:
    source, target = get_settings().dead_letter_queue_name(QUEUE), get_settings().queue_name(QUEUE)
    everything(source), everything(target)  # earlier tests' leftovers
    bodies = {f'{{"n":{n}}}' for n in range(23)}
    for body in bodies:
        sqs().send_message(
            QueueUrl=url(source),
            MessageBody=body,
            MessageAttributes={"origin": {"DataType": "String", "StringValue": "test"}},
        )

    assert redrive.main([QUEUE]) == 0
    assert capsys.readouterr().out.strip() == f"moved 23 message(s) from {source} to {target}; 0 failed"
    moved = everything(target)
    assert {m["Body"] for m in moved} == bodies
    assert all(m["MessageAttributes"] == {"origin": {"DataType": "String", "StringValue": "test"}} for m in moved)
    assert everything(source) == []

    assert redrive.main([QUEUE]) == 0
    assert capsys.readouterr().out.startswith("moved 0 message(s)")


def test_an_unknown_queue_is_refused(aws: None, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_status:
        redrive.main(["no-such-queue"])
    assert exit_status.value.code == 2 and "invalid choice" in capsys.readouterr().err
