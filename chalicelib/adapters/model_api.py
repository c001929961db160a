"""OpenAI-compatible model APIs (OpenAI, Azure OpenAI, Ollama): ``Complete``, ``Embed`` and ``Stream``.

The three vendors speak one wire format and differ only in where a request goes
(the ``Router``: a path, a query and whether the body names the model) and how
the key travels (auth mode and ``apiKeyHeader``). Results are reshaped into one
camelCase form so a caller does not care which vendor answered, and every result
carries ``usage`` (token counts) in the same shape, for the run record and for
per-connection numbers (docs/adapters.md "Model invocation").

Prompts and completions are data of the run, never of the logs: nothing here
logs, and vendor error messages are redacted like every other vendor's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import Field

from chalicelib.adapters.auth import Credential
from chalicelib.adapters.base import Adapter, ExecutionContext, HealthReport, Operation, Parameters
from chalicelib.adapters.errors import ConfigurationError, VendorBadResponse, VendorUnavailable, redact
from chalicelib.adapters.http import VendorRequest, send_stream
from chalicelib.core import jsontext

Kind = Literal["chat", "embeddings"]
ModelName = Annotated[str, Field(min_length=1, max_length=200)]


class ToolFunction(Parameters):
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
    description: Annotated[str, Field(max_length=4096)] | None = None
    parameters: dict[str, Any] | None = Field(default=None, description="JSON Schema of the arguments")


class Tool(Parameters):
    type: Literal["function"] = "function"
    function: ToolFunction


class Message(Parameters):
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[dict[str, Any]] | None = None
    name: Annotated[str, Field(max_length=64)] | None = None
    tool_call_id: Annotated[str, Field(max_length=200)] | None = None
    tool_calls: list[dict[str, Any]] | None = Field(default=None, description="as a Complete result's toolCalls")


class CompleteParameters(Parameters):
    model: ModelName | None = Field(default=None, description="default: configuration.model (Azure: the deployment)")
    messages: Annotated[list[Message], Field(min_length=1, max_length=1000)]
    temperature: Annotated[float, Field(ge=0, le=2)] | None = None
    max_tokens: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    tools: Annotated[list[Tool], Field(max_length=128)] | None = None
    tool_choice: Literal["none", "auto", "required"] | dict[str, Any] | None = None
    stop: str | Annotated[list[str], Field(max_length=4)] | None = None


class EmbedParameters(Parameters):
    model: ModelName | None = Field(default=None, description="default: configuration.embeddingModel")
    input: Annotated[str, Field(min_length=1)] | Annotated[list[str], Field(min_length=1, max_length=2048)]
    dimensions: Annotated[int, Field(ge=1, le=16384)] | None = None


@dataclass(frozen=True)
class Target:
    path: str
    query: dict[str, str]
    model: str | None  # the model named in the body; None where the URL names it (an Azure deployment)


Router = Callable[[Kind, str | None, ExecutionContext], Target]


def configured_model(kind: Kind, model: str | None, context: ExecutionContext) -> str:
    """The parameter, else ``configuration.model`` (chat) or ``configuration.embeddingModel`` (embeddings)."""
    key = "model" if kind == "chat" else "embeddingModel"
    chosen = model or context.configuration.get(key)
    if not isinstance(chosen, str) or not chosen:
        raise ConfigurationError(f"Name the model: parameters.model or configuration.{key}.")
    return chosen


def _body(parameters: CompleteParameters | EmbedParameters, target: Target, **extra: Any) -> dict[str, Any]:
    body = parameters.model_dump(exclude_none=True, exclude={"model"})
    if target.model is not None:
        body["model"] = target.model
    return body | extra


def model_operations(router: Router, *, stream_usage: bool = True) -> list[Operation[Any]]:
    """``Complete``, ``Embed`` and ``Stream`` for one vendor's routes."""

    def complete(parameters: CompleteParameters, context: ExecutionContext) -> VendorRequest:
        target = router("chat", parameters.model, context)
        return VendorRequest("POST", target.path, query=target.query, json_body=_body(parameters, target))

    def stream(parameters: CompleteParameters, context: ExecutionContext) -> VendorRequest:
        target = router("chat", parameters.model, context)
        extra: dict[str, Any] = {"stream": True}
        if stream_usage:
            extra["stream_options"] = {"include_usage": True}
        body = _body(parameters, target, **extra)
        return VendorRequest(
            "POST", target.path, query=target.query, headers={"Accept": "text/event-stream"}, json_body=body
        )

    def embed(parameters: EmbedParameters, context: ExecutionContext) -> VendorRequest:
        target = router("embeddings", parameters.model, context)
        return VendorRequest("POST", target.path, query=target.query, json_body=_body(parameters, target))

    return [
        Operation(
            "Complete",
            "Complete",
            "A chat completion (POST /chat/completions).",
            CompleteParameters,
            COMPLETION_SCHEMA,
            complete,
        ),
        Operation(
            "Embed",
            "Embed",
            "Vectors for one text or a list (POST /embeddings).",
            EmbedParameters,
            EMBEDDING_SCHEMA,
            embed,
        ),
        Operation(
            "Stream",
            "Stream",
            "A chat completion read as it is generated (stream: true); the run's partialResult holds the text so far.",
            CompleteParameters,
            COMPLETION_SCHEMA,
            stream,
        ),
    ]


USAGE_SCHEMA = {
    "type": "object",
    "properties": {k: {"type": "integer"} for k in ("promptTokens", "completionTokens", "totalTokens")},
}
COMPLETION_SCHEMA = {
    "type": "object",
    "properties": {
        "model": {"type": "string"},
        "message": {
            "type": "object",
            "properties": {"role": {"type": "string"}, "content": {"type": ["string", "null"]}},
        },
        "toolCalls": {"type": "array", "items": {"type": "object"}},
        "finishReason": {"type": ["string", "null"]},
        "usage": USAGE_SCHEMA,
    },
}
EMBEDDING_SCHEMA = {
    "type": "object",
    "properties": {
        "model": {"type": "string"},
        "vectors": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
        "usage": USAGE_SCHEMA,
    },
}


def usage(document: Mapping[str, Any] | None) -> dict[str, int]:
    """The vendor's ``usage`` in the platform's shape; counts the vendor did not give are left out."""
    names = {"prompt_tokens": "promptTokens", "completion_tokens": "completionTokens", "total_tokens": "totalTokens"}
    found = document if isinstance(document, Mapping) else {}
    return {ours: found[theirs] for theirs, ours in names.items() if isinstance(found.get(theirs), int)}


def _completion(model: Any, content: Any, tool_calls: list[dict[str, Any]], finish: Any, used: Any) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content if isinstance(content, str) else None}
    if tool_calls:
        message["toolCalls"] = tool_calls
    return {
        "model": model if isinstance(model, str) else None,
        "message": message,
        "toolCalls": tool_calls,
        "finishReason": finish if isinstance(finish, str) else None,
        "usage": usage(used),
    }


def completion_result(document: Any) -> dict[str, Any]:
    choices = document.get("choices") if isinstance(document, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise VendorBadResponse("The vendor's chat completion has no choices.")
    message = choices[0].get("message") or {}
    calls = message.get("tool_calls") if isinstance(message, dict) else None
    tool_calls = [c for c in calls if isinstance(c, dict)] if isinstance(calls, list) else []
    content = message.get("content") if isinstance(message, dict) else None
    return _completion(
        document.get("model"), content, tool_calls, choices[0].get("finish_reason"), document.get("usage")
    )


def embedding_result(document: Any) -> dict[str, Any]:
    data = document.get("data") if isinstance(document, dict) else None
    if not isinstance(data, list) or not all(
        isinstance(d, dict) and isinstance(d.get("embedding"), list) for d in data
    ):
        raise VendorBadResponse("The vendor's embeddings answer has no data[].embedding.")
    ordered = sorted(data, key=lambda d: d.get("index", 0) if isinstance(d.get("index"), int) else 0)
    return {
        "model": document.get("model"),
        "vectors": [d["embedding"] for d in ordered],
        "usage": usage(document.get("usage")),
    }


@dataclass
class _Collected:
    """What a chat completion stream has said so far."""

    text: str = ""
    model: Any = None
    finish: Any = None
    used: Any = None
    done: bool = False

    def __post_init__(self) -> None:
        self.calls: dict[int, dict[str, Any]] = {}

    def add(self, chunk: dict[str, Any], secrets: list[str]) -> bool:
        """Fold one chunk in; True when it added text."""
        if isinstance(chunk.get("error"), dict):
            message = redact(str(chunk["error"].get("message", "error")), secrets)
            raise VendorUnavailable(f"The vendor's stream reported an error: {message}")
        self.model = chunk.get("model") or self.model
        self.used = chunk.get("usage") or self.used
        choices = chunk.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            return False
        self.finish = choices[0].get("finish_reason") or self.finish
        delta = choices[0].get("delta") or {}
        for call in delta.get("tool_calls") or []:
            self._add_call(call)
        piece = delta.get("content")
        if isinstance(piece, str) and piece:
            self.text += piece
            return True
        return False

    def _add_call(self, call: dict[str, Any]) -> None:
        slot = self.calls.setdefault(
            int(call.get("index", 0)), {"id": None, "type": "function", "function": {"name": "", "arguments": ""}}
        )
        slot["id"] = call.get("id") or slot["id"]
        function = call.get("function") or {}
        slot["function"]["name"] += function.get("name") or ""
        slot["function"]["arguments"] += function.get("arguments") or ""

    def result(self) -> dict[str, Any]:
        calls = [self.calls[i] for i in sorted(self.calls)]
        return _completion(self.model, self.text, calls, self.finish, self.used)


def _events(lines: Iterator[bytes]) -> Iterator[str]:
    """The ``data:`` payloads of a server-sent event stream (one JSON document per event for these vendors)."""
    for raw in lines:
        line = raw.decode("utf-8", errors="replace").rstrip("\r")
        if line.startswith("data:"):
            yield line[5:].strip()


def collect_stream(
    lines: Iterator[bytes], secrets: list[str], progress: Callable[[Any], None] | None
) -> dict[str, Any]:
    """Read a chat completion stream to its end; ``progress`` sees the text so far after each text chunk."""
    collected = _Collected()
    for data in _events(lines):
        if data == "[DONE]":
            collected.done = True
            break
        try:
            chunk = jsontext.read(data)
        except ValueError as exc:
            raise VendorBadResponse("The vendor's stream carried an event that is not JSON.") from exc
        if isinstance(chunk, dict) and collected.add(chunk, secrets) and progress is not None:
            progress(collected.text)
    if not collected.done and collected.finish is None:
        raise VendorUnavailable("The vendor's stream ended before the completion did.")
    return collected.result()


class ModelAdapter(Adapter):
    """The shared execution: reshaped results, and ``Stream`` read through ``send_stream``."""

    health_request = VendorRequest("GET", "/models")

    def execute(
        self, operation: str, parameters: Mapping[str, Any], credential: Credential, context: ExecutionContext
    ) -> Any:
        context = self.prepared_context(context)
        request = self.operation(operation).request(parameters, context)
        if operation == "Stream":
            base_url, request, auth = self.prepare(request, credential, context)
            with send_stream(base_url, auth.apply(request), context.timeout, auth.secrets()) as lines:
                return collect_stream(lines, auth.secrets(), context.progress)
        document = self.interpret(self.call(request, credential, context), credential)
        return embedding_result(document) if operation == "Embed" else completion_result(document)

    def health_check(self, credential: Credential, context: ExecutionContext) -> HealthReport:
        return super().health_check(credential, self.prepared_context(context))

    def prepared_context(self, context: ExecutionContext) -> ExecutionContext:
        """Vendor defaults a connection's configuration may leave out (Azure's ``api-key`` header)."""
        return context
