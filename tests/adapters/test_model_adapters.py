"""The OpenAI-compatible adapters against the fake model server: request shape, result shape, limits, streams."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.adapters import azure_openai, ollama, openai
from chalicelib.adapters.auth import Credential
from chalicelib.adapters.base import ExecutionContext
from chalicelib.adapters.errors import ConfigurationError, VendorUnauthorized, VendorUnavailable
from chalicelib.adapters.http import VendorResponse, retry_after
from chalicelib.adapters.model_api import collect_stream
from chalicelib.providers.models import AuthModel
from tests.support.fake_openai import USAGE, FakeModelServer, serve_models

MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hello."}]
USAGE_SHAPE = {"promptTokens": 11, "completionTokens": 7, "totalTokens": 18}


@pytest.fixture
def models() -> Iterator[FakeModelServer]:
    with serve_models() as fake:
        yield fake


def bearer(key: str) -> Credential:
    return Credential(AuthModel.BEARER_TOKEN, {"token": key})


def context(url: str, **configuration: Any) -> ExecutionContext:
    return ExecutionContext(base_url="https://api.openai.com/v1", configuration={"baseUrl": url, **configuration})


def test_openai_complete_sends_the_chat_request_and_reshapes_the_answer(models: FakeModelServer) -> None:
    parameters = {"model": "gpt-test", "messages": MESSAGES, "temperature": 0.2, "maxTokens": 50}
    result = openai.ADAPTER.execute("Complete", parameters, bearer(models.key), context(models.url + "/v1"))
    assert result == {
        "model": "gpt-test",
        "message": {"role": "assistant", "content": models.reply},
        "toolCalls": [],
        "finishReason": "stop",
        "usage": USAGE_SHAPE,
    }
    seen = models.requests[-1]
    assert seen.path == "/v1/chat/completions" and seen.headers["authorization"] == f"Bearer {models.key}"
    assert seen.body == {"model": "gpt-test", "messages": MESSAGES, "temperature": 0.2, "max_tokens": 50}


def test_tool_definitions_go_out_and_tool_calls_come_back_ready_for_the_next_turn(models: FakeModelServer) -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'}}
    models.tool_call = call
    tool = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}
    parameters = {"messages": MESSAGES, "tools": [tool], "toolChoice": "auto"}
    result = openai.ADAPTER.execute("Complete", parameters, bearer(models.key), context(models.url + "/v1", model="m1"))
    assert result["toolCalls"] == [call] and result["finishReason"] == "tool_calls"
    assert models.requests[-1].body["tools"] == [tool] and models.requests[-1].body["model"] == "m1"
    follow_up = [*MESSAGES, result["message"], {"role": "tool", "toolCallId": "call_1", "content": "12 C"}]
    openai.ADAPTER.operation("Complete").validate({"messages": follow_up})  # a result message is a valid message


def test_embed_returns_vectors_in_input_order_with_usage(models: FakeModelServer) -> None:
    parameters = {"model": "text-embedding-test", "input": ["a", "b"]}
    result = openai.ADAPTER.execute("Embed", parameters, bearer(models.key), context(models.url + "/v1"))
    assert result == {
        "model": "text-embedding-test",
        "vectors": [[0.25, -0.5, 0.0], [0.25, -0.5, 1.0]],
        "usage": {"promptTokens": 4, "totalTokens": 4},
    }


def test_azure_uses_the_deployment_path_api_version_and_api_key_header(models: FakeModelServer) -> None:
    credential = Credential(AuthModel.API_KEY, {"apiKey": models.key})
    ctx = context(models.url, deployment="chat-dep", embeddingDeployment="emb-dep", apiVersion="2024-06-01")
    azure_openai.ADAPTER.execute("Complete", {"messages": MESSAGES}, credential, ctx)
    azure_openai.ADAPTER.execute("Embed", {"input": "x"}, credential, ctx)
    chat, embed = models.requests[-2:]
    assert (chat.path, chat.query) == ("/openai/deployments/chat-dep/chat/completions", {"api-version": "2024-06-01"})
    assert embed.path == "/openai/deployments/emb-dep/embeddings" and "model" not in chat.body
    assert chat.headers["api-key"] == models.key and "authorization" not in chat.headers
    health = azure_openai.ADAPTER.health_check(credential, ctx)
    assert health.healthy and models.requests[-1].path == "/openai/models"


def test_ollama_speaks_the_same_protocol_on_its_v1_endpoint(models: FakeModelServer) -> None:
    result = ollama.ADAPTER.execute(
        "Complete", {"model": "llama3.2", "messages": MESSAGES}, bearer(models.key), context(models.url + "/v1")
    )
    assert result["message"]["content"] == models.reply and models.requests[-1].body["model"] == "llama3.2"


def test_a_model_must_be_named_somewhere(models: FakeModelServer) -> None:
    with pytest.raises(ConfigurationError, match=r"configuration\.model"):
        openai.ADAPTER.execute("Complete", {"messages": MESSAGES}, bearer(models.key), context(models.url + "/v1"))
    with pytest.raises(ConfigurationError, match="deployment"):
        azure_openai.ADAPTER.execute("Embed", {"input": "x"}, bearer(models.key), context(models.url))
    assert models.requests == []


def test_a_wrong_key_is_unauthorized_and_the_key_is_not_echoed(models: FakeModelServer) -> None:
    with pytest.raises(VendorUnauthorized) as raised:
        openai.ADAPTER.execute(
            "Complete", {"model": "m", "messages": MESSAGES}, bearer("sk-wrong-key-123"), context(models.url + "/v1")
        )
    assert "sk-wrong-key-123" not in raised.value.message


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"x-ratelimit-reset-requests": "1s", "x-ratelimit-reset-tokens": "6m0s"}, 360.0),
        ({"x-ratelimit-reset-tokens": "120ms"}, 0.12),
    ],
)
def test_429_carries_the_vendors_reset_time(models: FakeModelServer, headers: dict[str, str], seconds: float) -> None:
    models.rate_limit_next(headers)
    with pytest.raises(VendorUnavailable) as raised:
        openai.ADAPTER.execute("Embed", {"model": "m", "input": "x"}, bearer(models.key), context(models.url + "/v1"))
    assert raised.value.vendor_status == 429 and raised.value.retry_after == pytest.approx(seconds)


def test_reset_headers_mean_nothing_on_a_success() -> None:
    assert retry_after(VendorResponse(200, {"x-ratelimit-reset-requests": "1s"}, b"{}")) is None


def test_stream_collects_the_text_usage_and_reports_progress(models: FakeModelServer) -> None:
    seen: list[str] = []
    ctx = ExecutionContext(base_url=models.url + "/v1", configuration={"model": "m"}, progress=seen.append)
    result = openai.ADAPTER.execute("Stream", {"messages": MESSAGES}, bearer(models.key), ctx)
    assert result["message"]["content"] == "".join(models.pieces) and result["finishReason"] == "stop"
    assert result["usage"] == USAGE_SHAPE and USAGE["total_tokens"] == 18
    assert seen == ["Hello", "Hello from", "Hello from the", "Hello from the fake", "Hello from the fake model."]
    assert models.requests[-1].body["stream"] is True
    assert models.requests[-1].headers["accept"] == "text/event-stream"


def test_a_stream_that_breaks_off_is_retryable(models: FakeModelServer) -> None:
    models.break_stream = True
    with pytest.raises(VendorUnavailable, match="ended before"):
        openai.ADAPTER.execute(
            "Stream", {"model": "m", "messages": MESSAGES}, bearer(models.key), context(models.url + "/v1")
        )


def test_a_rate_limited_stream_is_a_429_like_any_other(models: FakeModelServer) -> None:
    models.rate_limit_next({"Retry-After": "3"})
    with pytest.raises(VendorUnavailable) as raised:
        openai.ADAPTER.execute(
            "Stream", {"model": "m", "messages": MESSAGES}, bearer(models.key), context(models.url + "/v1")
        )
    assert raised.value.retry_after == 3.0


def test_stream_tool_call_deltas_are_joined() -> None:
    first = {"index": 0, "id": "c1", "function": {"name": "f", "arguments": '{"a"'}}
    second = {"index": 0, "function": {"arguments": ":1}"}}
    chunks = [
        b"data: " + json.dumps({"choices": [{"delta": {"tool_calls": [first]}}]}).encode(),
        b"",
        b"data: "
        + json.dumps({"choices": [{"delta": {"tool_calls": [second]}, "finish_reason": "tool_calls"}]}).encode(),
        b"data: [DONE]",
    ]
    result = collect_stream(iter(chunks), [], None)
    assert result["toolCalls"] == [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"a":1}'}}]
    assert result["finishReason"] == "tool_calls"


def test_an_error_event_in_the_stream_is_redacted() -> None:
    chunks = [b'data: {"error": {"message": "overloaded for key sk-secret-123456"}}']
    with pytest.raises(VendorUnavailable) as raised:
        collect_stream(iter(chunks), ["sk-secret-123456"], None)
    assert "sk-secret-123456" not in raised.value.message
