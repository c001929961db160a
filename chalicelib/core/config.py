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
    "events",
    "subscriptions",
    "attempts",
    "api-keys",
    "rate-limits",
    "idempotency",
    "stats",
    "schedules",
    "live-connections",
)
ALL_QUEUES = (
    "events-stream-failures",
    "outbound-dispatch",
    "runs",
    "health-checks",
    "bus-events",
    "outbound-ordered.fifo",
)
FIFO_SUFFIX = ".fifo"
# The stage ``chalice local --stage local`` serves against ``make aws`` (docs/configuration.md). Chalice's
# config cannot interpolate the environment, so the addresses that depend on the ports are derived here.
LOCAL_STAGE = "local"
DEFAULT_PORT = 8000
# moto's default account, where the local runtime and the tests create the destination writer role.
LOCAL_ACCOUNT = "123456789012"


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
    # Where vendors post (a connection's webhookUrl): the ingest HTTP API in a deployed stage, the one local
    # server otherwise (docs/webhooks-inbound.md "Two fronts").
    ingest_base_url: str
    # Where boto3 clients send their calls; empty means AWS itself (boto3 also reads AWS_ENDPOINT_URL).
    aws_endpoint_url: str = ""
    run_max_attempts: int = 5
    run_result_max_bytes: int = 64 * 1024
    run_retry_base_seconds: float = 2.0
    vendor_timeout_seconds: float = 10.0
    # "secretsmanager": RotateSecret makes Secrets Manager invoke the rotation function (AWS);
    # "local": the local runtime invokes the registered function itself, as Secrets Manager would.
    rotation_invoker: str = "secretsmanager"
    rotation_function_arn: str = ""
    credential_rotation_days: int = 0
    secret_recovery_days: int = 7
    health_check_timeout_seconds: float = 5.0
    health_check_rate_minutes: int = 15
    # Requests per fixed minute window; 0 turns a limit off (docs/rate-limits.md).
    rate_limit_tenant_per_minute: int = 0
    rate_limit_key_per_minute: int = 0
    rate_limit_inbound_per_minute: int = 0
    # Frames a live socket may send in a fixed minute (002: 1000), then it is closed (docs/live.md).
    live_messages_per_minute: int = 1000
    # The in-flight sweeper (docs/adapters.md, docs/lifecycle-health-rotation.md "Sweeper"): how long an item may
    # stay in flight before it is re-queued, re-sent or failed. Running is the runs worker's lambda_timeout
    # (60 s in .chalice/config.json) plus a margin, so a run past it has no live invocation.
    inflight_sweep_rate_minutes: int = 1
    run_pending_deadline_seconds: float = 120.0
    run_max_requeues: int = 3
    run_running_deadline_seconds: float = 180.0
    rotation_deadline_seconds: float = 900.0
    # A streaming run writes its text so far to the run item after this many text chunks or seconds (one
    # UpdateItem each; docs/adapters.md "Stream").
    stream_partial_every_chunks: int = 20
    stream_partial_every_seconds: float = 2.0
    # How long ``tools/call`` on ``POST /mcp`` waits for its run before answering "still running" (docs/mcp.md);
    # well inside API Gateway's 29 s integration timeout.
    mcp_call_wait_seconds: float = 20.0
    # A connection's circuit breaker (chalicelib.protection.breaker, docs/adapters.md "Circuit breaker").
    breaker_failure_threshold: int = 5
    breaker_cooldown_seconds: float = 30.0
    # The role EventBridge Scheduler assumes to send a schedule's firings to the runs queue (infra/template.json).
    scheduler_role_arn: str = ""
    # The role event destinations are written under, assumed per tenant with the session tag ``tenantId``
    # (infra/template.json ``DestinationWriterRole``; the local runtime creates it in moto).
    destination_role_arn: str = ""

    def table_name(self, table: str) -> str:
        if table not in ALL_TABLES:
            raise KeyError(f"unknown table {table!r}")
        return f"{self.resource_prefix}-{table}"

    def queue_name(self, queue: str) -> str:
        if queue not in ALL_QUEUES:
            raise KeyError(f"unknown queue {queue!r}")
        return f"{self.resource_prefix}-{queue}"

    def dead_letter_queue_name(self, queue: str) -> str:
        """``<queue>-dlq``; a FIFO queue's DLQ must be FIFO too, so its ``.fifo`` stays last."""
        name = self.queue_name(queue)
        if name.endswith(FIFO_SUFFIX):
            return f"{name.removesuffix(FIFO_SUFFIX)}-dlq{FIFO_SUFFIX}"
        return f"{name}-dlq"

    @property
    def secret_prefix(self) -> str:
        """Secrets Manager names start here; the IAM policy grants nothing else."""
        return f"{self.resource_prefix}/"

    @property
    def events_stream_arn(self) -> str:
        """A stand-in at packaging time; ``infra/template.json`` wires the events table's real stream."""
        return os.environ.get(
            "EVENTS_STREAM_ARN",
            f"arn:aws:dynamodb:{self.region}:000000000000:table/{self.table_name('events')}/stream/packaged",
        )

    @property
    def live_endpoint_url(self) -> str:
        """The live WebSocket API's management endpoint (``https://{api}.execute-api.{region}.amazonaws.com/{stage}``).

        ``infra/template.json`` sets it from the WebSocket API Chalice generates; the local runtime serves it itself.
        """
        return os.environ.get("LIVE_ENDPOINT_URL", "")

    @property
    def event_bus_name(self) -> str:
        """The custom EventBridge bus: platform events out for the subscriptions that ask, other services' in."""
        return f"{self.resource_prefix}-events"

    @property
    def event_bus_arn(self) -> str:
        """The bus's ARN (``GET /events/bus``): ``infra/template.json`` sets it; the embedded AWS's otherwise."""
        return os.environ.get("EVENT_BUS_ARN") or (
            f"arn:aws:events:{self.region}:{LOCAL_ACCOUNT}:event-bus/{self.event_bus_name}"
        )


def local_ports() -> tuple[int, int]:
    """``PORT`` (the API, default 8000) and ``MOTO_PORT`` (``make aws``'s embedded AWS, default ``PORT`` + 1)."""
    port = int(os.environ.get("PORT") or DEFAULT_PORT)
    return port, int(os.environ.get("MOTO_PORT") or port + 1)


def _local_defaults(stage: str) -> dict[str, str]:
    """The local stage's port-dependent addresses: the API, the embedded AWS and the dev issuer's JWKS on it."""
    if stage != LOCAL_STAGE:
        return {}
    port, moto_port = local_ports()
    return {
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{moto_port}",
        "JWKS_URL": f"http://127.0.0.1:{moto_port}/.well-known/jwks.json",
    }


def local_destination_role_arn(resource_prefix: str) -> str:
    """The writer role the local runtime creates in moto; a deployed stage names the template's in the environment."""
    return f"arn:aws:iam::{LOCAL_ACCOUNT}:role/{resource_prefix}-destination-writer"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    stage = os.environ.get("STAGE", "dev")
    local = _local_defaults(stage)
    resource_prefix = os.environ.get("RESOURCE_PREFIX", f"integration-platform-{stage}")
    public_base_url = (os.environ.get("PUBLIC_BASE_URL") or local.get("PUBLIC_BASE_URL", "")).rstrip("/")
    return Settings(
        stage=stage,
        resource_prefix=resource_prefix,
        region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        jwt_issuer=os.environ.get("JWT_ISSUER", ""),
        jwt_audience=os.environ.get("JWT_AUDIENCE", "integration-platform"),
        jwks_url=os.environ.get("JWKS_URL") or local.get("JWKS_URL", ""),
        tenant_claim=os.environ.get("TENANT_CLAIM", "tenant_id"),
        allow_insecure_urls=_flag("ALLOW_INSECURE_URLS"),
        max_body_bytes=int(os.environ.get("MAX_BODY_BYTES", str(1024 * 1024))),
        public_base_url=public_base_url,
        ingest_base_url=(os.environ.get("INGEST_BASE_URL") or public_base_url).rstrip("/"),
        aws_endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or local.get("AWS_ENDPOINT_URL", ""),
        run_max_attempts=int(os.environ.get("RUN_MAX_ATTEMPTS", "5")),
        live_messages_per_minute=int(os.environ.get("LIVE_MESSAGES_PER_MINUTE", "1000")),
        run_result_max_bytes=int(os.environ.get("RUN_RESULT_MAX_BYTES", str(64 * 1024))),
        run_retry_base_seconds=float(os.environ.get("RUN_RETRY_BASE_SECONDS", "2")),
        vendor_timeout_seconds=float(os.environ.get("VENDOR_TIMEOUT_SECONDS", "10")),
        rotation_invoker=os.environ.get("ROTATION_INVOKER", "secretsmanager"),
        rotation_function_arn=os.environ.get("ROTATION_FUNCTION_ARN", ""),
        credential_rotation_days=int(os.environ.get("CREDENTIAL_ROTATION_DAYS", "0")),
        secret_recovery_days=int(os.environ.get("SECRET_RECOVERY_DAYS", "7")),
        health_check_timeout_seconds=float(os.environ.get("HEALTH_CHECK_TIMEOUT_SECONDS", "5")),
        health_check_rate_minutes=int(os.environ.get("HEALTH_CHECK_RATE_MINUTES", "15")),
        rate_limit_tenant_per_minute=int(os.environ.get("RATE_LIMIT_TENANT_PER_MINUTE", "0")),
        rate_limit_key_per_minute=int(os.environ.get("RATE_LIMIT_KEY_PER_MINUTE", "0")),
        rate_limit_inbound_per_minute=int(os.environ.get("RATE_LIMIT_INBOUND_PER_MINUTE", "0")),
        inflight_sweep_rate_minutes=int(os.environ.get("INFLIGHT_SWEEP_RATE_MINUTES", "1")),
        run_pending_deadline_seconds=float(os.environ.get("RUN_PENDING_DEADLINE_SECONDS", "120")),
        run_max_requeues=int(os.environ.get("RUN_MAX_REQUEUES", "3")),
        run_running_deadline_seconds=float(os.environ.get("RUN_RUNNING_DEADLINE_SECONDS", "180")),
        rotation_deadline_seconds=float(os.environ.get("ROTATION_DEADLINE_SECONDS", "900")),
        stream_partial_every_chunks=int(os.environ.get("STREAM_PARTIAL_EVERY_CHUNKS", "20")),
        stream_partial_every_seconds=float(os.environ.get("STREAM_PARTIAL_EVERY_SECONDS", "2")),
        mcp_call_wait_seconds=min(25.0, float(os.environ.get("MCP_CALL_WAIT_SECONDS", "20"))),
        breaker_failure_threshold=int(os.environ.get("BREAKER_FAILURE_THRESHOLD", "5")),
        breaker_cooldown_seconds=float(os.environ.get("BREAKER_COOLDOWN_SECONDS", "30")),
        scheduler_role_arn=os.environ.get("SCHEDULER_ROLE_ARN", "arn:aws:iam::000000000000:role/local-scheduler"),
        destination_role_arn=os.environ.get("DESTINATION_ROLE_ARN") or local_destination_role_arn(resource_prefix),
    )
