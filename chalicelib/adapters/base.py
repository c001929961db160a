"""The one adapter interface: ``operations()``, ``execute()``, ``health_check()``.

A vendor module declares its operations as data: a pydantic parameters model
(its JSON Schema is the catalog entry, its ``model_validate`` the 422 check), a
result schema, and a function that turns validated parameters into one
``VendorRequest``. ``Adapter`` does the rest the same way for every vendor:
base URL, auth, sending, the OAuth2 refresh on 401, and error classification.
A vendor overrides ``interpret`` only when its API reports errors in-band
(Slack's ``ok: false``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel

from chalicelib.adapters.auth import Authenticator, Credential
from chalicelib.adapters.errors import ConfigurationError, VendorError
from chalicelib.adapters.http import VendorRequest, VendorResponse, raise_for_status, send
from chalicelib.adapters.models import OperationSpec
from chalicelib.core.errors import FieldError, OperationNotFound, ParameterValidationFailed


class Parameters(BaseModel):
    """Base of every operation's parameters: camelCase on the wire, unknown fields refused."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", defer_build=True)


ParamsT = TypeVar("ParamsT", bound=Parameters)


@dataclass(frozen=True)
class ExecutionContext:
    """Where and how to call: resolved per run by the worker, or built directly by tests."""

    base_url: str
    configuration: dict[str, Any] = field(default_factory=dict)
    run_id: str | None = None
    timeout: float = 10.0
    # 2+ when an earlier attempt may have reached the vendor (a retry or a redelivery after a crash).
    attempt: int = 1
    connection_id: str | None = None
    # Called with a long operation's partial result (a model's stream so far); the worker stores it on the run.
    progress: Callable[[Any], None] | None = None


@dataclass(frozen=True)
class Operation(Generic[ParamsT]):
    id: str
    name: str
    description: str
    parameters: type[ParamsT]
    result_schema: dict[str, Any]
    # A ``VendorRequest`` for an HTTP vendor; the platform's own AWS services build an ``aws_services.AwsCall``.
    build: Callable[[ParamsT, ExecutionContext], Any]
    # True when a repeated call cannot repeat the side effect (reads, or the vendor honours our idempotency key).
    idempotent: bool = False

    def spec(self) -> OperationSpec:
        return OperationSpec(
            id=self.id,
            name=self.name,
            description=self.description,
            parameters=self.parameters.model_json_schema(by_alias=True),
            result_schema=self.result_schema,
            idempotent=self.idempotent,
        )

    def validate(self, parameters: Mapping[str, Any]) -> ParamsT:
        try:
            return self.parameters.model_validate(dict(parameters))
        except ValidationError as exc:
            details = [
                FieldError(".".join(["parameters", *(str(p) for p in error["loc"])]), error["msg"])
                for error in exc.errors(include_url=False)
            ]
            raise ParameterValidationFailed(f"The parameters of {self.id} are not valid.", details) from exc

    def request(self, parameters: Mapping[str, Any], context: ExecutionContext) -> Any:
        return self.build(self.validate(parameters), context)


@dataclass(frozen=True)
class HealthReport:
    healthy: bool
    message: str
    vendor_status: int | None = None
    tools: list[dict[str, Any]] | None = None  # what a server with a discovered catalogue (MCP) lists now
    # The answer's headers (lower-case names): rate-limit and scope headers become health checks.
    headers: Mapping[str, str] = field(default_factory=dict)


class Adapter:
    """A vendor: its operations, default headers, and how it answers."""

    provider_key: str = ""
    default_headers: dict[str, str] = {}
    health_request: VendorRequest = VendorRequest("GET", "/")

    def __init__(self, *operations: Operation[Any]) -> None:
        self._operations = {operation.id: operation for operation in operations}

    def with_tools(self, tools: list[dict[str, Any]] | None) -> Adapter:
        """This adapter with a connection's discovered catalogue; only MCP's operations depend on it."""
        return self

    def operations(self) -> list[OperationSpec]:
        return [operation.spec() for operation in self._operations.values()]

    def operation(self, operation_id: str) -> Operation[Any]:
        operation = self._operations.get(operation_id)
        if operation is None:
            known = ", ".join(sorted(self._operations))
            raise OperationNotFound(f"Operation '{operation_id}' does not exist for this provider (known: {known}).")
        return operation

    def execute(
        self, operation: str, parameters: Mapping[str, Any], credential: Credential, context: ExecutionContext
    ) -> Any:
        """Run one operation; the result is the vendor's JSON, or raises a ``VendorError``."""
        request: VendorRequest = self.operation(operation).request(parameters, context)
        response = self.call(request, credential, context)
        return self.interpret(response, credential)

    def health_check(self, credential: Credential, context: ExecutionContext) -> HealthReport:
        """An authenticated read that changes nothing; healthy when the vendor accepts the credential."""
        try:
            response = self.call(self.health_request_for(context), credential, context)
            self.interpret(response, credential)
        except VendorError as exc:
            return HealthReport(False, exc.message, exc.vendor_status)
        return HealthReport(True, f"The vendor answered {response.status}.", response.status, headers=response.headers)

    def prepare(
        self, request: VendorRequest, credential: Credential, context: ExecutionContext
    ) -> tuple[str, VendorRequest, Authenticator]:
        """The base URL, the request with default headers, and the authenticator that signs it."""
        base_url = context.configuration.get("baseUrl") or context.base_url
        if not isinstance(base_url, str) or not base_url:
            raise ConfigurationError("The connection has no base URL.")
        auth = Authenticator(credential, context.configuration, context.timeout)
        request = request.with_headers({k: v for k, v in self.default_headers.items() if k not in request.headers})
        return base_url, request, auth

    def health_request_for(self, context: ExecutionContext) -> VendorRequest:
        """The health check's request; a vendor whose check depends on the connection's configuration overrides it."""
        return self.health_request

    def call(self, request: VendorRequest, credential: Credential, context: ExecutionContext) -> VendorResponse:
        base_url, request, auth = self.prepare(request, credential, context)
        response = send(base_url, auth.apply(request), context.timeout)
        if response.status == 401 and auth.refreshable:
            auth.refresh()
            response = send(base_url, auth.apply(request), context.timeout)
        raise_for_status(response, auth.secrets())
        return response

    def interpret(self, response: VendorResponse, credential: Credential) -> Any:
        """The result of a 2xx; vendors with in-band errors override this."""
        return response.json()
