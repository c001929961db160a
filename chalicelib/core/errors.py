"""The one error hierarchy. Every failure a caller can cause is an ``ApiError``.

``ApiError`` derives from Chalice's ``ChaliceUnhandledError`` so that Chalice lets
it propagate to our middleware, which renders the documented error shape.
Domain code raises these without importing Chalice handlers or Responses.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalice.app import ChaliceUnhandledError


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class ApiError(ChaliceUnhandledError):
    status = 500
    code = "INTERNAL_ERROR"

    def __init__(
        self,
        message: str,
        details: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []
        self.headers = headers or {}


class ValidationFailed(ApiError):
    status = 400
    code = "VALIDATION_ERROR"


class AuthenticationFailed(ApiError):
    status = 401
    code = "AUTHENTICATION_FAILED"


class AuthorizationDenied(ApiError):
    status = 403
    code = "AUTHORIZATION_DENIED"


class NotFound(ApiError):
    status = 404
    code = "RESOURCE_NOT_FOUND"


class MethodNotAllowed(ApiError):
    status = 405
    code = "METHOD_NOT_ALLOWED"


class NotAcceptable(ApiError):
    status = 406
    code = "NOT_ACCEPTABLE"


class Conflict(ApiError):
    status = 409
    code = "CONFLICT"


class DuplicateResource(Conflict):
    code = "DUPLICATE_RESOURCE"


class IdempotencyInProgress(Conflict):
    """The first request with this Idempotency-Key has not finished yet."""

    code = "IDEMPOTENCY_KEY_IN_PROGRESS"


class CredentialUnavailable(Conflict):
    """The request is fine, but the secret it needs cannot be used now (gone, scheduled for deletion, denied,
    not JSON, not the auth mode's shape): the caller fixes the secret (restore it, or give new credentials)
    and retries. The message says why and names the ``kv://`` reference, never a value."""

    code = "CREDENTIAL_UNAVAILABLE"


class PayloadTooLarge(ApiError):
    status = 413
    code = "PAYLOAD_TOO_LARGE"


class UnsupportedMediaType(ApiError):
    status = 415
    code = "UNSUPPORTED_MEDIA_TYPE"


class Unprocessable(ApiError):
    status = 422
    code = "UNPROCESSABLE_ENTITY"


class ParameterValidationFailed(Unprocessable):
    code = "PARAMETER_VALIDATION_ERROR"


class IdempotencyKeyReused(Unprocessable):
    """An Idempotency-Key sent again with a different request."""

    code = "IDEMPOTENCY_KEY_REUSED"


class OperationNotFound(NotFound):
    code = "OPERATION_NOT_FOUND"


class RateLimitExceeded(ApiError):
    status = 429
    code = "RATE_LIMIT_EXCEEDED"


class ServiceUnavailable(ApiError):
    status = 503
    code = "SERVICE_UNAVAILABLE"


class CircuitOpen(ServiceUnavailable):
    """A connection's circuit breaker refused the vendor call (``chalicelib.protection.breaker``)."""

    code = "CIRCUIT_OPEN"


class EntireBatchFailed(Exception):
    """Every record of a queue or stream batch failed (chalicelib/core/batch.py); Lambda retries the whole batch.

    Not an ``ApiError``: no caller sees it, only the event source mapping. ``errors`` are the records' own."""

    def __init__(self, errors: list[Exception]) -> None:
        super().__init__(f"all {len(errors)} records failed: " + "; ".join(repr(error) for error in errors[:3]))
        self.errors = errors
