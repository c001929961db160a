"""Python SDK for the Integration Platform API: ``Client``, typed ``models``, ``webhooks`` verification.

Standard library only; ``ipctl`` (``integration_platform.cli``) is the command line on top of it.
"""

from integration_platform.client import Client
from integration_platform.errors import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    PlatformError,
    RateLimitedError,
    ServerError,
    TransportError,
    WaitTimeoutError,
)
from integration_platform.transport import RetryPolicy
from integration_platform.webhooks import WebhookVerificationError

__all__ = [
    "ApiError",
    "AuthenticationError",
    "BadRequestError",
    "Client",
    "ConflictError",
    "NotFoundError",
    "PermissionDeniedError",
    "PlatformError",
    "RateLimitedError",
    "RetryPolicy",
    "ServerError",
    "TransportError",
    "WaitTimeoutError",
    "WebhookVerificationError",
]
