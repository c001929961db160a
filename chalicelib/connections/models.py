"""Connection shapes (004) and the one credential shape per auth mode."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, SecretStr, model_validator

from chalicelib.core.models import HttpUrl, JsonObject, RequestModel, WireModel, not_both
from chalicelib.core.timestamps import Timestamp
from chalicelib.providers.models import AuthModel
from chalicelib.stats.models import UsageStats

Name = Annotated[str, Field(min_length=1, max_length=200)]
Secret = Annotated[SecretStr, Field(min_length=1, max_length=8192)]


class BearerTokenCredentials(RequestModel):
    token: Secret


class ApiKeyCredentials(RequestModel):
    api_key: Secret


class BasicCredentials(RequestModel):
    username: Annotated[str, Field(min_length=1, max_length=512)]
    password: Secret


class OAuth2ClientCredentials(RequestModel):
    client_id: Annotated[str, Field(min_length=1, max_length=512)]
    client_secret: Secret
    token_url: HttpUrl | None = None
    scope: Annotated[str, Field(max_length=1024)] | None = None


Credentials = BearerTokenCredentials | ApiKeyCredentials | BasicCredentials | OAuth2ClientCredentials

CREDENTIAL_SHAPES: dict[AuthModel, type[RequestModel]] = {
    AuthModel.BEARER_TOKEN: BearerTokenCredentials,
    AuthModel.API_KEY: ApiKeyCredentials,
    AuthModel.BASIC: BasicCredentials,
    AuthModel.OAUTH2_CLIENT_CREDENTIALS: OAuth2ClientCredentials,
}


def credentials_secret(credentials: Credentials) -> dict[str, Any]:
    """The JSON written to Secrets Manager: real values, camelCase keys."""
    plain: dict[str, Any] = {}
    for name, value in credentials.model_dump(by_alias=True, exclude_none=True).items():
        plain[name] = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
    return plain


def missing_credential_fields(auth_mode: AuthModel, values: dict[str, Any]) -> list[str]:
    """The fields the auth mode's shape requires that ``values`` (a secret's JSON) lacks or leaves empty."""
    shape = CREDENTIAL_SHAPES[auth_mode]
    required = [field.alias or name for name, field in shape.model_fields.items() if field.is_required()]
    return [name for name in required if not isinstance(values.get(name), str) or not values[name]]


class SecretOwner(StrEnum):
    """Who created a secret, and so who may destroy it: the platform deletes only what it wrote itself."""

    PLATFORM = "Platform"
    CALLER = "Caller"


def platform_credential_path(connection_id: str) -> str:
    """Where the platform writes a connection's inline ``credentials``."""
    return f"connections/{connection_id}"


def platform_webhook_path(connection_id: str) -> str:
    """Where the platform writes a connection's inbound webhook secret (generated, given inline, or changed)."""
    return f"connections/{connection_id}/webhook"


class ConnectionStatus(StrEnum):
    ACTIVE = "Active"
    INACTIVE = "Inactive"


class Health(StrEnum):
    HEALTHY = "Healthy"
    UNHEALTHY = "Unhealthy"
    UNKNOWN = "Unknown"


class CreateConnectionRequest(RequestModel):
    """Either ``credentialRef`` (an existing secret) or inline ``credentials``, never both; neither for a provider
    on the platform's role (``AwsIam``). Which applies depends on the provider, so the service checks it."""

    model_config = ConfigDict(
        json_schema_extra={
            "allOf": [not_both("credentialRef", "credentials"), not_both("webhookSecret", "webhookSecretRef")]
        }
    )

    tenant_id: str | None = None
    project_id: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    provider_id: Annotated[str, Field(min_length=1, max_length=80)]
    display_name: Name
    auth_mode: AuthModel | None = None
    credential_ref: Annotated[str, Field(max_length=420)] | None = None
    credentials: Credentials | None = None
    configuration: JsonObject = Field(default_factory=dict, max_length=50)
    webhook_secret: Secret | None = Field(default=None, description="Inbound webhook secret; generated if absent.")
    webhook_secret_ref: Annotated[str, Field(max_length=420)] | None = None

    @model_validator(mode="after")
    def _one_credential_source(self) -> CreateConnectionRequest:
        if self.credential_ref is not None and self.credentials is not None:
            raise ValueError("give exactly one of credentialRef or credentials")
        if self.webhook_secret is not None and self.webhook_secret_ref is not None:
            raise ValueError("give at most one of webhookSecret or webhookSecretRef")
        return self


class Connection(WireModel):
    connection_id: str
    tenant_id: str
    project_id: str | None = None
    provider_id: str
    display_name: str
    auth_mode: AuthModel
    status: ConnectionStatus
    health: Health
    established_at: Timestamp
    last_checked_at: Timestamp | None = None
    # None (and no owner) for ``AwsIam``: the connection calls AWS under the platform's role, nothing is stored.
    credential_ref: str | None = None
    credential_id: str | None = None
    credential_owner: SecretOwner | None = None
    last_run_id: str | None = None
    configuration: dict[str, Any] = Field(default_factory=dict)
    webhook_secret_ref: str | None = None
    webhook_secret_owner: SecretOwner | None = None
    webhook_url: str | None = None
    # Vendor-call numbers over 30 days; only ``GET /integrations/connections/{id}`` fills them (docs/observability.md).
    stats: UsageStats | None = None
    trace_id: str | None = None
    # An MCP server's tools as its last test or health check listed them (``chalicelib.adapters.mcp``);
    # written by the health check and the connection test (``connections.health``), never part of a response.
    discovered_tools: list[dict[str, Any]] | None = Field(default=None, exclude=True)
    # A secret generated at creation, handed to the route once; never dumped, so never stored.
    generated_webhook_secret: SecretStr | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _owners(self) -> Connection:
        """Items stored before owners were recorded: the platform owns only the paths it writes for this
        connection; anything else may be the caller's, and keeping a secret is safer than destroying one."""
        if self.credential_owner is None and self.credential_ref is not None:
            own = self.credential_ref == f"kv://{platform_credential_path(self.connection_id)}"
            self.credential_owner = SecretOwner.PLATFORM if own else SecretOwner.CALLER
        if self.webhook_secret_owner is None and self.webhook_secret_ref is not None:
            own = self.webhook_secret_ref == f"kv://{platform_webhook_path(self.connection_id)}"
            self.webhook_secret_owner = SecretOwner.PLATFORM if own else SecretOwner.CALLER
        return self


class EstablishedConnection(WireModel):
    """The 004 establish response, plus where the credential lives."""

    connection_id: str
    status: ConnectionStatus
    provider_id: str
    health: Health
    established_at: Timestamp
    credential_ref: str | None = Field(default=None, description="Null for authMode AwsIam: nothing is stored.")
    credential_id: str | None = Field(default=None, description="Null for authMode AwsIam: nothing is stored.")
    webhook_url: str | None = None
    webhook_secret_ref: str | None = None
    webhook_secret: str | None = Field(default=None, description="Only when generated, and only in this response.")
    trace_id: str | None = None


class WebhookSecretChange(RequestModel):
    """A new inbound secret (generated if absent); the old one verifies for ``overlapSeconds`` more."""

    webhook_secret: Secret | None = None
    overlap_seconds: Annotated[int, Field(ge=0, le=7 * 24 * 3600)] = 24 * 3600


class WebhookSecretChanged(WireModel):
    connection_id: str
    webhook_secret_ref: str
    webhook_secret: str | None = Field(default=None, description="Only when generated, and only in this response.")
    previous_secret_expires_at: Timestamp | None = None
    trace_id: str | None = None


class ConnectionList(WireModel):
    items: list[Connection]
    next_cursor: str | None = None


class ConnectionListQuery(WireModel):
    limit: Annotated[int, Field(ge=1, le=100)] = 20
    cursor: str | None = None
    status: ConnectionStatus | None = None
    provider_id: str | None = None
    project_id: str | None = None


CredentialShapeName = Literal["BearerToken", "ApiKey", "Basic", "OAuth2ClientCredentials"]
