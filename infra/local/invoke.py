"""Invoke a Chalice event handler the way Lambda does.

The local runtime hands the registered handler a plain event dict and a context
object with the attributes Lambda's context has, so handler code (and
powertools' ``inject_lambda_context``) runs unchanged. Timeout and memory come
from ``.chalice/config.json`` for the stage and function, as deployed.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chalice.app import BaseEventSourceConfig, Chalice, LambdaFunction
from chalice.config import Config

from infra.local.calls import acting_as

PROJECT_DIR = Path(__file__).resolve().parents[2]
# moto's default account; ARNs in local events use it so they match the queues' ARNs.
LOCAL_ACCOUNT = "123456789012"


@dataclass
class LambdaContext:
    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    deadline: float
    function_version: str = "$LATEST"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"local/{self.aws_request_id}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


class LocalFunction:
    """One event handler (or plain ``lambda_function``) of the app, deployed as its own Lambda function."""

    def __init__(self, app: Chalice, source: BaseEventSourceConfig | LambdaFunction, stage: str, region: str) -> None:
        self.name = source.name
        self.handler = app.handler_map[source.name]
        config_path = PROJECT_DIR / ".chalice" / "config.json"
        on_disk = json.loads(config_path.read_text()) if config_path.exists() else {}
        config = Config(chalice_stage=stage, function_name=source.name, config_from_disk=on_disk)
        self.timeout = int(config.lambda_timeout or 60)
        self.memory = int(config.lambda_memory_size or 128)
        self.function_name = f"{app.app_name}-{stage}-{source.name}"
        self.arn = f"arn:aws:lambda:{region}:{LOCAL_ACCOUNT}:function:{self.function_name}"

    def invoke(self, event: dict[str, Any]) -> Any:
        context = LambdaContext(
            function_name=self.function_name,
            invoked_function_arn=self.arn,
            memory_limit_in_mb=self.memory,
            aws_request_id=str(uuid.uuid4()),
            deadline=time.monotonic() + self.timeout,
        )
        with acting_as(self.name):
            return self.handler(event, context)
