"""Each provider's connection ``configuration`` schema: the keys the platform reads, and their types.

Every provider accepts the keys the platform itself reads for any connection
(``baseUrl``, ``rateLimit``, and the auth placement keys ``chalicelib.adapters.auth``
reads). A built-in adds the keys its adapter reads and refuses any other key,
so a typo (``fromAdress``) is a 400 naming the field instead of a run that
fails later. Generic HTTP and a registered provider without a
``configurationSchema`` stay open: the tenant's own API may want anything, and
only the common keys are type-checked. A registered provider's own schema is
closed unless it says ``additionalProperties: true``.
"""

from __future__ import annotations

from typing import Any

from chalicelib.providers import schema
from chalicelib.providers.models import Provider

STRING = {"type": "string", "minLength": 1, "maxLength": 2048}
NAME = {"type": "string", "minLength": 1, "maxLength": 200}
RATE_LIMIT = {
    "type": "object",
    "description": "Calls toward the vendor, shared by every worker: a token bucket (docs/adapters.md).",
    "properties": {
        "requestsPerSecond": {"type": "number", "exclusiveMinimum": 0, "maximum": 1000},
        "burst": {"type": "integer", "minimum": 1, "maximum": 1000},
    },
    "required": ["requestsPerSecond"],
    "additionalProperties": False,
}
COMMON: dict[str, Any] = {
    "baseUrl": STRING,
    "rateLimit": RATE_LIMIT,
    "apiKeyHeader": NAME,
    "apiKeyQueryParam": NAME,
    "tokenUrl": STRING,
}
SNS_TOPICS = {"type": "array", "items": STRING, "maxItems": 20}

BUILTIN_KEYS: dict[str, dict[str, Any]] = {
    "github": {"organization": NAME, "defaultBranch": NAME},
    "slack": {},
    "stripe": {},
    "shopify": {},
    "standard-webhooks": {},
    "twilio-sms": {"accountSid": NAME},
    "jira": {},
    "openai": {"model": NAME, "embeddingModel": NAME},
    "azure-openai": {
        "apiVersion": NAME,
        "deployment": NAME,
        "embeddingDeployment": NAME,
        "model": NAME,
        "embeddingModel": NAME,
    },
    "ollama": {"model": NAME, "embeddingModel": NAME},
    "aws-ses": {"fromAddress": STRING, "configurationSet": NAME, "snsTopicArns": SNS_TOPICS},
    "aws-sns": {
        "senderId": NAME,
        "smsType": {"type": "string", "enum": ["Transactional", "Promotional"]},
        "snsTopicArns": SNS_TOPICS,
    },
}


def schema_for(provider: Provider) -> dict[str, Any]:
    """The JSON Schema a connection's ``configuration`` must fit for ``provider``."""
    if provider.built_in and provider.key in BUILTIN_KEYS:
        return {"type": "object", "properties": COMMON | BUILTIN_KEYS[provider.key], "additionalProperties": False}
    own = provider.configuration_schema
    if own is None:
        return {"type": "object", "properties": COMMON, "additionalProperties": True}
    merged = COMMON | dict(own.get("properties") or {})
    closed = own.get("additionalProperties", False)
    return {**own, "type": "object", "properties": merged, "additionalProperties": closed}


def validate(provider: Provider, configuration: dict[str, Any]) -> None:
    """400 naming each unknown or ill-typed key."""
    schema.validate(schema_for(provider), configuration, "configuration")
