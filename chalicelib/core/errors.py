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
    """A dependency failed for now, and the request left nothing a retry would not complete: 503, ``Retry-After``."""

    status = 503
    code = "SERVICE_UNAVAILABLE"
    RETRY_AFTER_SECONDS = 1

    def __init__(
        self,
        message: str = "A dependency is unavailable for now; retry the request (with the same Idempotency-Key).",
        details: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message, details, {"Retry-After": str(self.RETRY_AFTER_SECONDS), **(headers or {})})


class CircuitOpen(ServiceUnavailable):
    """A connection's circuit breaker refused the vendor call (``chalicelib.protection.breaker``)."""

    code = "CIRCUIT_OPEN"


class EntireBatchFailed(Exception):
    """Every record of a queue or stream batch failed (chalicelib/core/batch.py); Lambda retries the whole batch.

    Not an ``ApiError``: no caller sees it, only the event source mapping. ``errors`` are the records' own."""

    def __init__(self, errors: list[Exception]) -> None:
        super().__init__(f"all {len(errors)} records failed: " + "; ".join(repr(error) for error in errors[:3]))
        self.errors = errors


# What AWS answers when a call may succeed if repeated: botocore's throttling and transient codes (its standard
# retry mode's lists), each service's name for its own 500, and DynamoDB's transaction conflicts. Not botocore's
# ``LimitExceededException``: from Secrets Manager it is a quota reached, which no repeat clears.
_TRANSIENT_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "RequestTimeout",
        "RequestTimeoutException",
        "TransactionConflict",
        "TransactionConflictException",
        "InternalServerError",
        "InternalServerException",
        "InternalServiceError",
        "InternalFailure",
        "InternalError",
        "InternalException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "KMSThrottlingException",
    }
)
# ``TransactionCanceledException`` reasons that a repeat may clear (``ConditionalCheckFailed`` is not one).
_TRANSIENT_CANCELLATIONS = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"})


def is_transient(error: BaseException) -> bool:
    """Whether ``error``, or an error it was raised from, is an AWS failure that a later repeat may not meet.

    Throttling, a service's 5xx, a timeout or a dropped connection, after botocore's own retries gave up.
    Wrappers (powertools' idempotency errors, say) are looked through by ``__cause__``/``__context__``.
    """
    from botocore.exceptions import ClientError, HTTPClientError
    from botocore.exceptions import ConnectionError as AwsConnectionError

    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, AwsConnectionError | HTTPClientError):
            return True
        if isinstance(current, ClientError):
            response = current.response
            code = response.get("Error", {}).get("Code", "")
            if code in _TRANSIENT_CODES or int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)) >= 500:
                return True
            if code == "TransactionCanceledException":
                reasons = {r.get("Code") for r in response.get("CancellationReasons", [])} - {None, "None"}
                return bool(reasons) and reasons <= _TRANSIENT_CANCELLATIONS
            return False
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    return False


def unexpected(error: Exception) -> ApiError:
    """What a caller sees for an error no code path answered: 503 when it is transient, else 500."""
    if is_transient(error):
        return ServiceUnavailable()
    return ApiError("An internal error occurred.")
