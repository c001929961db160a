"""Azure OpenAI: ``Complete``, ``Embed``, ``Stream`` against a resource's deployments.

The connection's ``configuration.baseUrl`` is the resource endpoint
(``https://<resource>.openai.azure.com``); ``configuration.deployment`` names the
chat deployment and ``configuration.embeddingDeployment`` the embeddings one
(default: ``deployment``); a run's ``model`` parameter overrides either.
``configuration.apiVersion`` becomes the ``api-version`` query parameter. With
``authMode`` ``ApiKey`` the key travels in the ``api-key`` header unless
``configuration.apiKeyHeader`` says otherwise; ``BearerToken`` sends an Entra ID token.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import quote

from chalicelib.adapters.base import ExecutionContext
from chalicelib.adapters.errors import ConfigurationError
from chalicelib.adapters.http import VendorRequest
from chalicelib.adapters.model_api import Kind, ModelAdapter, Target, model_operations

DEFAULT_API_VERSION = "2024-10-21"
PATHS = {"chat": "chat/completions", "embeddings": "embeddings"}


def api_version(context: ExecutionContext) -> dict[str, str]:
    version = context.configuration.get("apiVersion") or DEFAULT_API_VERSION
    return {"api-version": str(version)}


def route(kind: Kind, model: str | None, context: ExecutionContext) -> Target:
    configuration = context.configuration
    deployment = model or (configuration.get("embeddingDeployment") if kind == "embeddings" else None)
    deployment = deployment or configuration.get("deployment")
    if not isinstance(deployment, str) or not deployment:
        raise ConfigurationError("Azure OpenAI needs configuration.deployment (or parameters.model).")
    return Target(f"/openai/deployments/{quote(deployment, safe='')}/{PATHS[kind]}", api_version(context), None)


class AzureOpenAiAdapter(ModelAdapter):
    provider_key = "azure-openai"

    def prepared_context(self, context: ExecutionContext) -> ExecutionContext:
        if context.configuration.get("apiKeyHeader"):
            return context
        return replace(context, configuration={**context.configuration, "apiKeyHeader": "api-key"})

    def health_request_for(self, context: ExecutionContext) -> VendorRequest:
        """Listing the resource's models needs the api-version too."""
        return VendorRequest("GET", "/openai/models", query=api_version(context))


ADAPTER = AzureOpenAiAdapter(*model_operations(route))
