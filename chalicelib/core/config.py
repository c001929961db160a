"""Stage settings read from the environment.

Every AWS resource name is derived from one ``RESOURCE_PREFIX`` so that
``infra/template.json``, ``.chalice/config.json`` and the local runtime agree
on names without passing each one around.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

ALL_TABLES = (
    "providers",
    "connections",
    "credentials",
    "runs",
    "deliveries",
    "events",
    "subscriptions",
    "attempts",
    "api-keys",
    "rate-limits",
    "idempotency",
)
ALL_QUEUES = ("inbound-events", "outbound-dispatch", "runs", "health-checks")


def _flag(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    stage: str
    resource_prefix: str
    region: str
    jwt_issuer: str
    jwt_audience: str
    jwks_url: str
    tenant_claim: str
    allow_insecure_urls: bool
    max_body_bytes: int
    public_base_url: str

    def table_name(self, table: str) -> str:
        if table not in ALL_TABLES:
            raise KeyError(f"unknown table {table!r}")
        return f"{self.resource_prefix}-{table}"

    def queue_name(self, queue: str) -> str:
        if queue not in ALL_QUEUES:
            raise KeyError(f"unknown queue {queue!r}")
        return f"{self.resource_prefix}-{queue}"

    @property
    def secret_prefix(self) -> str:
        """Secrets Manager names start here; the IAM policy grants nothing else."""
        return f"{self.resource_prefix}/"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    stage = os.environ.get("STAGE", "dev")
    return Settings(
        stage=stage,
        resource_prefix=os.environ.get("RESOURCE_PREFIX", f"integration-platform-{stage}"),
        region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        jwt_issuer=os.environ.get("JWT_ISSUER", ""),
        jwt_audience=os.environ.get("JWT_AUDIENCE", "integration-platform"),
        jwks_url=os.environ.get("JWKS_URL", ""),
        tenant_claim=os.environ.get("TENANT_CLAIM", "tenant_id"),
        allow_insecure_urls=_flag("ALLOW_INSECURE_URLS"),
        max_body_bytes=int(os.environ.get("MAX_BODY_BYTES", str(1024 * 1024))),
        public_base_url=os.environ.get("PUBLIC_BASE_URL", "").rstrip("/"),
    )
