"""OpenAI's API (and any service that copies it): ``Complete``, ``Embed``, ``Stream``.

Bearer auth with the API key as token. The base URL is the provider's
``https://api.openai.com/v1`` unless the connection sets ``configuration.baseUrl``
(a proxy, a gateway, or the fake server in tests).
"""

from __future__ import annotations

from chalicelib.adapters.base import ExecutionContext
from chalicelib.adapters.model_api import Kind, ModelAdapter, Target, configured_model, model_operations

PATHS = {"chat": "/chat/completions", "embeddings": "/embeddings"}


def route(kind: Kind, model: str | None, context: ExecutionContext) -> Target:
    return Target(PATHS[kind], {}, configured_model(kind, model, context))


class OpenAiAdapter(ModelAdapter):
    provider_key = "openai"


ADAPTER = OpenAiAdapter(*model_operations(route))
