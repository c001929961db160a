"""Ollama through its OpenAI-compatible ``/v1`` endpoint: ``Complete``, ``Embed``, ``Stream``.

Ollama has no auth of its own; a connection gives any bearer token (Ollama's own
docs use ``ollama``), which Ollama ignores and a reverse proxy in front of it may
check. The base URL is the connection's ``configuration.baseUrl`` (for example
``https://ollama.internal.example/v1``); deployed stages refuse plain HTTP and
private addresses, so a self-hosted Ollama is reached through an HTTPS front.
"""

from __future__ import annotations

from chalicelib.adapters.model_api import ModelAdapter, model_operations
from chalicelib.adapters.openai import route


class OllamaAdapter(ModelAdapter):
    provider_key = "ollama"


ADAPTER = OllamaAdapter(*model_operations(route))
