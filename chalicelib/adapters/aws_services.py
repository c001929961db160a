"""What the platform's own AWS services (SES, SNS) share as adapters: calls under the platform's IAM role.

No HTTP and no tenant credential (the providers' auth mode is ``AwsIam``: nothing
stored, nothing read): an operation builds an ``AwsCall`` (client,
method, keyword arguments) and ``AwsAdapter`` makes it with the one client
factory (``chalicelib.core.aws``), then classifies an AWS error the way vendor
answers are classified, so the worker retries throttling and fails a rejection.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.adapters.auth import Credential
from chalicelib.adapters.base import Adapter, ExecutionContext, HealthReport, Operation
from chalicelib.adapters.errors import VendorError, VendorRejected, VendorTimeout, VendorUnavailable, redact

THROTTLED = {"Throttling", "ThrottlingException", "ThrottledException", "TooManyRequestsException"}
UNAVAILABLE = {"ServiceUnavailable", "InternalFailure", "InternalError", "KMSThrottlingException"}


@dataclass(frozen=True)
class AwsCall:
    client: Callable[[], Any]
    method: str
    arguments: dict[str, Any]
    shape: Callable[[dict[str, Any]], Any]  # the AWS answer as the run's result


def classify(exc: Exception) -> VendorError:
    """An AWS failure as a ``VendorError``: throttling and 5xx are retried, anything else fails the run."""
    from botocore.exceptions import ClientError, ConnectTimeoutError, ReadTimeoutError

    if isinstance(exc, ConnectTimeoutError | ReadTimeoutError):
        return VendorTimeout("AWS did not answer in time.")
    if not isinstance(exc, ClientError):
        return VendorUnavailable(f"AWS could not be reached ({type(exc).__name__}).")
    error = exc.response.get("Error", {})
    code = str(error.get("Code", "Unknown"))
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 400)
    message = f"AWS answered {code}: {redact(str(error.get('Message', '')))}"
    if code in THROTTLED or code in UNAVAILABLE or status >= 500:
        return VendorUnavailable(message, status)
    return VendorRejected(message, status)


class AwsAdapter(Adapter):
    """An adapter over the platform's own AWS account; the connection has no credential (``AwsIam``).

    ``health`` is a read that changes nothing and shapes the answer into the check's message: it proves the
    platform's role reaches the service in its region, which is all a connection without a secret can fail on.
    """

    def __init__(self, health: AwsCall, *operations: Operation[Any]) -> None:
        super().__init__(*operations)
        self._health = health

    def execute(
        self, operation: str, parameters: Mapping[str, Any], credential: Credential, context: ExecutionContext
    ) -> Any:
        return _make(self.operation(operation).request(parameters, context))

    def health_check(self, credential: Credential, context: ExecutionContext) -> HealthReport:
        try:
            message = _make(self._health)
        except VendorError as exc:
            return HealthReport(False, exc.message, exc.vendor_status)
        return HealthReport(True, str(message), 200)


def _make(call: AwsCall) -> Any:
    """One call with the one client factory; an AWS failure becomes a ``VendorError``."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        answer = getattr(call.client(), call.method)(**call.arguments)
    except (BotoCoreError, ClientError) as exc:
        raise classify(exc) from exc
    return call.shape(answer)
