"""Tenant provider registrations in DynamoDB (the built-ins are code, not items)."""

from __future__ import annotations

from chalicelib.core.dynamo import Page, Table
from chalicelib.providers.models import Provider

TABLE = Table("providers", sort_key="providerId")


def _item(tenant_id: str, provider: Provider) -> dict[str, object]:
    return {"tenantId": tenant_id, **provider.model_dump(mode="json", by_alias=True, exclude_none=True)}


def _provider(item: dict[str, object]) -> Provider:
    return Provider.model_validate({k: v for k, v in item.items() if k != "tenantId"})


def insert(tenant_id: str, provider: Provider) -> bool:
    return TABLE.put_new(_item(tenant_id, provider))


def get(tenant_id: str, provider_id: str) -> Provider | None:
    item = TABLE.get(tenant_id, provider_id)
    return _provider(item) if item else None


def list_page(tenant_id: str, limit: int, cursor: str | None) -> tuple[list[Provider], str | None]:
    page: Page = TABLE.query(tenant_id, limit=limit, cursor=cursor)
    return [_provider(item) for item in page.items], page.next_cursor
