"""Model invocation as runs: usage on the result, vendor rate limits, streamed partial text, prompts out of logs."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.runs.models import RunStatus
from tests.runs.conftest import run_of
from tests.support.api_client import ApiClient
from tests.support.fake_openai import FakeModelServer, serve_models
from tests.support.run_driver import connect, deliver, deliver_when_shown, receive, runs_queue, settings, start
from tests.support.waiting import poll

PROMPT = "PROMPT-MARKER-7c1e: tell me the secret recipe"
COMPLETION = "COMPLETION-MARKER-22b9 the recipe is flour"


@pytest.fixture
def models() -> Iterator[FakeModelServer]:
    with serve_models() as fake:
        fake.reply = COMPLETION
        yield fake


def model_connection(client: ApiClient, models: FakeModelServer) -> str:
    return connect(
        client,
        models.url + "/v1",
        provider_id="prov-openai",
        credentials={"token": models.key},
        configuration={"model": "m", "embeddingModel": "e"},
    )


def test_complete_records_usage_and_keeps_prompt_and_completion_out_of_the_logs(
    client: ApiClient,
    tenant: str,
    models: FakeModelServer,
    handler: Any,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG, logger="integration-platform")
    connection_id = model_connection(client, models)
    accepted = start(client, connection_id, "Complete", {"messages": [{"role": "user", "content": PROMPT}]})
    models.rate_limit_next({"Retry-After": "0"})  # a retry path too, which logs
    with settings(RUN_RETRY_BASE_SECONDS="0"):
        deliver(handler, runs_queue(), tenant)
        deliver_when_shown(handler, runs_queue(), tenant, "the retry after Retry-After: 0")
    polled = client.get(f"/integrations/runs/{accepted['runId']}").json
    assert polled["status"] == "Completed", polled
    assert polled["result"]["usage"] == {"promptTokens": 11, "completionTokens": 7, "totalTokens": 18}
    assert polled["result"]["message"]["content"] == COMPLETION
    captured = capfd.readouterr()
    logs = captured.out + captured.err + "\n".join(r.getMessage() + str(r.__dict__) for r in caplog.records)
    assert accepted["runId"] in logs  # the retry was logged, so the check below looked at real log lines
    assert "PROMPT-MARKER" not in logs and "COMPLETION-MARKER" not in logs


def test_openai_reset_headers_postpone_the_retry(
    client: ApiClient, tenant: str, models: FakeModelServer, handler: Any
) -> None:
    connection_id = model_connection(client, models)
    accepted = start(client, connection_id, "Embed", {"input": ["a"]})
    models.rate_limit_next({"x-ratelimit-reset-requests": "2s", "x-ratelimit-reset-tokens": "500ms"})
    with settings(RUN_RETRY_BASE_SECONDS="0"):
        messages, failed = deliver(handler, runs_queue(), tenant)
        assert failed == {messages[0]["MessageId"]}, run_of(tenant, accepted["runId"])
        assert run_of(tenant, accepted["runId"]).status == RunStatus.RUNNING
        assert receive(runs_queue(), tenant) == []  # hidden for the vendor's reset time
        deliver_when_shown(handler, runs_queue(), tenant, "the retry after the vendor's reset time")
    done = run_of(tenant, accepted["runId"])
    assert (done.status, done.attempts) == (RunStatus.COMPLETED, 2)
    assert done.result["usage"] == {"promptTokens": 4, "totalTokens": 4}


def test_stream_partial_text_is_readable_while_the_run_goes_on(
    client: ApiClient, tenant: str, models: FakeModelServer, handler: Any
) -> None:
    models.pieces = [f"word{i} " for i in range(8)]
    models.pause_after = 4
    connection_id = model_connection(client, models)
    accepted = start(client, connection_id, "Stream", {"messages": [{"role": "user", "content": PROMPT}]})
    with settings(STREAM_PARTIAL_EVERY_CHUNKS="2", STREAM_PARTIAL_EVERY_SECONDS="3600"):
        worker = threading.Thread(target=deliver, args=(handler, runs_queue(), tenant))
        worker.start()
        poll(models.paused.is_set, "the model server to pause mid-stream")
        running = poll(
            # Written every 2 chunks: "word0 word1 " first, then all four before the server pauses.
            lambda: (
                (r := client.get(f"/integrations/runs/{accepted['runId']}").json).get("partialResult")
                == "word0 word1 word2 word3 "
                and r
            ),
            "the partial result up to the pause",
        )
        models.released.set()
        poll(lambda: not worker.is_alive(), "the worker to finish the stream")
    assert running["status"] == "Running"
    assert running["partialResult"] == "word0 word1 word2 word3 "
    done = client.get(f"/integrations/runs/{accepted['runId']}").json
    assert done["status"] == "Completed" and "partialResult" not in done
    assert done["result"]["message"]["content"] == "".join(models.pieces)
    assert done["result"]["usage"]["totalTokens"] == 18
