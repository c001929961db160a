"""Twilio Programmable Messaging: sending an SMS.

The connection uses Basic auth with the Account SID as username and the auth
token as password, as Twilio documents; the SID in the URL comes from
``configuration.accountSid`` or, failing that, the credential's username.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Annotated, Any
from urllib.parse import quote

from pydantic import Field, model_validator

from chalicelib.adapters.auth import Credential
from chalicelib.adapters.base import Adapter, ExecutionContext, Operation, Parameters
from chalicelib.adapters.errors import ConfigurationError
from chalicelib.adapters.http import VendorRequest
from chalicelib.core.config import get_settings
from chalicelib.inbound.signatures.twilio import status_callback_url

Phone = Annotated[str, Field(min_length=2, max_length=40, pattern=r"^\+?[0-9A-Za-z:_-]+$")]


class SendSmsParameters(Parameters):
    to: Phone = Field(description="E.164 number of the recipient")
    from_: Phone | None = Field(default=None, alias="from", description="E.164 sender number")
    messaging_service_sid: Annotated[str, Field(max_length=64)] | None = None
    body: Annotated[str, Field(min_length=1, max_length=1600)]

    @model_validator(mode="after")
    def _one_sender(self) -> SendSmsParameters:
        if self.from_ is None and self.messaging_service_sid is None:
            raise ValueError("give 'from' or 'messagingServiceSid'")
        return self


def _send_sms(parameters: SendSmsParameters, context: ExecutionContext) -> VendorRequest:
    sid = context.configuration.get("accountSid")
    if not isinstance(sid, str) or not sid:
        raise ConfigurationError("Twilio needs configuration.accountSid (or the Basic username).")
    form = {"To": parameters.to, "Body": parameters.body}
    if parameters.from_:
        form["From"] = parameters.from_
    if parameters.messaging_service_sid:
        form["MessagingServiceSid"] = parameters.messaging_service_sid
    ingest = get_settings().ingest_base_url
    if ingest and context.connection_id and context.run_id:  # Twilio needs an absolute URL
        webhook = f"{ingest}/webhooks/deliveries/{quote(context.connection_id, safe='')}"
        form["StatusCallback"] = status_callback_url(webhook, context.run_id)
    return VendorRequest("POST", f"/2010-04-01/Accounts/{quote(sid, safe='')}/Messages.json", form=form)


class TwilioSmsAdapter(Adapter):
    provider_key = "twilio-sms"
    health_request = VendorRequest("GET", "/2010-04-01/Accounts.json")

    def execute(
        self, operation: str, parameters: Mapping[str, Any], credential: Credential, context: ExecutionContext
    ) -> Any:
        """The Account SID defaults to the Basic username, which Twilio requires to be the same SID."""
        if not context.configuration.get("accountSid") and credential.values.get("username"):
            context = replace(
                context, configuration={**context.configuration, "accountSid": credential.values["username"]}
            )
        return super().execute(operation, parameters, credential, context)


ADAPTER = TwilioSmsAdapter(
    Operation(
        "SendSms",
        "Send SMS",
        "Sends a text message (POST /2010-04-01/Accounts/{AccountSid}/Messages.json, form-encoded).",
        SendSmsParameters,
        {
            "type": "object",
            "properties": {"sid": {"type": "string"}, "status": {"type": "string"}, "to": {"type": "string"}},
        },
        _send_sms,
    ),
)
