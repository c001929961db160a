"""Provider shapes: the 004 registration request/response and the full resource."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from chalicelib.core.models import HttpUrl, JsonObject, RequestModel, WireModel
from chalicelib.core.timestamps import Timestamp


class AuthModel(StrEnum):
    BEARER_TOKEN = "BearerToken"
    API_KEY = "ApiKey"
    BASIC = "Basic"
    OAUTH2_CLIENT_CREDENTIALS = "OAuth2ClientCredentials"
    # The platform's own IAM role (built-in ``aws-ses``/``aws-sns``): no stored secret, nothing to send or rotate.
    AWS_IAM = "AwsIam"


def stores_credential(auth: AuthModel) -> bool:
    """Whether a connection in this mode has a secret in Secrets Manager (every mode but ``AwsIam``)."""
    return auth is not AuthModel.AWS_IAM


class Category(StrEnum):
    SOURCE_CONTROL = "SourceControl"
    COMMUNICATION = "Communication"
    PAYMENTS = "Payments"
    COMMERCE = "Commerce"
    PROJECT_MANAGEMENT = "ProjectManagement"
    CRM = "Crm"
    SUPPORT = "Support"
    CLOUD = "Cloud"
    AI = "Ai"
    GENERIC = "Generic"


SignatureSchemeName = Literal[
    "github", "stripe", "slack", "shopify", "standard-webhooks", "hmac", "jws", "twilio", "aws-sns", "none"
]


class WebhookSignature(WireModel):
    """How the vendor signs the webhooks it sends; ``hmac``/``jws`` take the extra settings."""

    scheme: SignatureSchemeName = "none"
    header: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    algorithm: Literal["sha1", "sha256", "sha512", "HS256", "RS256", "ES256"] | None = None
    encoding: Literal["hex", "base64"] | None = None
    prefix: Annotated[str, Field(max_length=64)] | None = None
    jwks_url: HttpUrl | None = None


ProviderKey = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", description="lowercase, digits, hyphens")]


class RegisterProviderRequest(RequestModel):
    tenant_id: str | None = None
    key: ProviderKey
    display_name: Annotated[str, Field(min_length=1, max_length=200)]
    category: Category = Category.GENERIC
    auth_model: Annotated[AuthModel, Field(json_schema_extra={"not": {"const": AuthModel.AWS_IAM.value}})]
    api_client: Annotated[str, Field(max_length=200)] | None = None
    capabilities: Annotated[list[Annotated[str, Field(min_length=1, max_length=100)]], Field(max_length=100)] = []
    base_url: HttpUrl
    webhook_signature: WebhookSignature | None = None
    configuration_schema: JsonObject | None = Field(
        default=None,
        description="JSON Schema (subset, docs/adapters.md) a connection's configuration must fit; closed by default.",
    )

    @field_validator("auth_model")
    @classmethod
    def _not_the_platform_role(cls, value: AuthModel) -> AuthModel:
        """A registered provider is called over HTTP by the generic adapter, which has no use for the platform's
        role; ``AwsIam`` would only make its connections unauthenticated."""
        if not stores_credential(value):
            raise ValueError("AwsIam is only for the built-in providers that call AWS under the platform's role")
        return value


class RegisteredProvider(WireModel):
    """The 004 registration response."""

    provider_id: str
    status: Literal["Registered"] = "Registered"
    api_client_id: str
    registered_at: Timestamp
    trace_id: str | None = None


class Provider(WireModel):
    provider_id: str
    key: str
    display_name: str
    category: Category
    auth_model: AuthModel
    api_client: str | None = None
    api_client_id: str
    capabilities: list[str]
    base_url: str
    # Built without validation: validating at import would build the schema (and load pydantic's plugins) in
    # every function that imports this module; the fields are the defaults, already valid.
    webhook_signature: WebhookSignature = WebhookSignature.model_construct()
    built_in: bool
    configuration_schema: dict[str, Any] | None = None
    status: Literal["Registered"] = "Registered"
    registered_at: Timestamp | None = None
    trace_id: str | None = None


class ProviderList(WireModel):
    items: list[Provider]
    next_cursor: str | None = None
