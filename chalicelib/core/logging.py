"""The service logger: structured JSON with the trace id appended per request."""

from __future__ import annotations

from aws_lambda_powertools.logging import Logger

logger = Logger(service="integration-platform")
