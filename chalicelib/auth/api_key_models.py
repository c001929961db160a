"""API key shapes on the wire; the key itself appears only in ``CreatedApiKey``."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field, field_validator

from chalicelib.auth.principal import ALL_SCOPES
from chalicelib.core.models import ListResponse, RequestModel, WireModel, shared_schema
from chalicelib.core.timestamps import Timestamp


class ApiKeyStatus(StrEnum):
    ACTIVE = "Active"
    EXPIRED = "Expired"
    REVOKED = "Revoked"


class CreateApiKeyRequest(RequestModel):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    scopes: Annotated[
        list[str],
        Field(
            min_length=1,
            max_length=len(ALL_SCOPES),
            json_schema_extra={"items": shared_schema("Scope", {"type": "string", "enum": sorted(ALL_SCOPES)})},
        ),
    ]
    expires_at: datetime | None = Field(default=None, description="When the key stops working; none: never.")

    @field_validator("scopes")
    @classmethod
    def _known(cls, scopes: list[str]) -> list[str]:
        unknown = sorted(set(scopes) - set(ALL_SCOPES))
        if unknown:
            raise ValueError(f"unknown scopes: {', '.join(unknown)}")
        return sorted(set(scopes))

    @field_validator("expires_at")
    @classmethod
    def _future(cls, moment: datetime | None) -> datetime | None:
        if moment is None:
            return None
        if moment.tzinfo is None:
            raise ValueError("needs a time zone, e.g. 2030-01-01T00:00:00Z")
        if moment <= datetime.now(UTC):
            raise ValueError("must be in the future")
        return moment


class ApiKey(WireModel):
    api_key_id: str
    name: str
    scopes: list[str]
    prefix: str = Field(description="The key's first characters, to recognise it; never enough to use it.")
    status: ApiKeyStatus
    created_at: Timestamp
    created_by: str
    expires_at: Timestamp | None = None
    revoked_at: Timestamp | None = None
    trace_id: str | None = None


class CreatedApiKey(ApiKey):
    # Optional in the document: a replayed creation (same Idempotency-Key) answers without it (api/idempotency.py).
    api_key: str | None = Field(
        default=None, description="The key itself: shown in this response only (not on a replay), stored as a hash."
    )


class ApiKeyList(ListResponse[ApiKey]):
    pass
