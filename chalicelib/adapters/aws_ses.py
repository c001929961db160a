"""Amazon SES: ``SendEmail`` from the connection's sending identity, under the platform's role.

``configuration.fromAddress`` is the verified identity (address or ``Name <address>``),
``configuration.configurationSet`` the optional SES configuration set whose event
destination (an SNS topic) reports delivery back to this connection's webhook URL.
Every message is tagged ``runId`` and ``connectionId``, which SES copies into those
events (``mail.tags``), so a status finds its run without a lookup table
(docs/webhooks-inbound.md "Delivery status"). SES has no idempotency key: a
retry after a timeout may send twice (``attempt`` > 1), as the docs say.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import Field, model_validator

from chalicelib.adapters.aws_services import AwsAdapter, AwsCall
from chalicelib.adapters.base import ExecutionContext, Operation, Parameters
from chalicelib.adapters.errors import ConfigurationError
from chalicelib.core import aws

Address = Annotated[str, Field(min_length=3, max_length=320, pattern=r"^[^@\s<>]+@[^@\s<>]+$")]
Addresses = Annotated[list[Address], Field(max_length=50)]
_TAG_VALUE = re.compile(r"[^A-Za-z0-9_.@-]")


class SendEmailParameters(Parameters):
    to: Annotated[list[Address], Field(min_length=1, max_length=50)]
    cc: Addresses = []
    bcc: Addresses = []
    reply_to: Addresses = []
    subject: Annotated[str, Field(min_length=1, max_length=998)]
    text: Annotated[str, Field(min_length=1, max_length=200_000)] | None = None
    html: Annotated[str, Field(min_length=1, max_length=200_000)] | None = None

    @model_validator(mode="after")
    def _a_body(self) -> SendEmailParameters:
        if self.text is None and self.html is None:
            raise ValueError("give 'text' or 'html'")
        return self


def tag(value: str) -> str:
    """SES tag values allow letters, digits, ``_ - . @`` only."""
    return _TAG_VALUE.sub("_", value)[:256]


def _send_email(parameters: SendEmailParameters, context: ExecutionContext) -> AwsCall:
    source = context.configuration.get("fromAddress")
    if not isinstance(source, str) or not source:
        raise ConfigurationError("SES needs configuration.fromAddress (a verified sending identity).")
    body: dict[str, Any] = {}
    if parameters.text is not None:
        body["Text"] = {"Data": parameters.text, "Charset": "UTF-8"}
    if parameters.html is not None:
        body["Html"] = {"Data": parameters.html, "Charset": "UTF-8"}
    arguments: dict[str, Any] = {
        "Source": source,
        "Destination": {"ToAddresses": parameters.to, "CcAddresses": parameters.cc, "BccAddresses": parameters.bcc},
        "Message": {"Subject": {"Data": parameters.subject, "Charset": "UTF-8"}, "Body": body},
        "Tags": [
            {"Name": name, "Value": tag(value)}
            for name, value in (("runId", context.run_id), ("connectionId", context.connection_id))
            if value
        ],
    }
    if parameters.reply_to:
        arguments["ReplyToAddresses"] = parameters.reply_to
    configuration_set = context.configuration.get("configurationSet")
    if isinstance(configuration_set, str) and configuration_set:
        arguments["ConfigurationSetName"] = configuration_set
    return AwsCall(aws.ses, "send_email", arguments, lambda answer: {"messageId": answer["MessageId"]})


class SesAdapter(AwsAdapter):
    provider_key = "aws-ses"


def _quota(answer: dict[str, Any]) -> str:
    sent, most = answer.get("SentLast24Hours", 0), answer.get("Max24HourSend", 0)
    return f"SES answered GetSendQuota: {sent:.0f} of {most:.0f} messages sent in the last 24 hours."


ADAPTER = SesAdapter(
    AwsCall(aws.ses, "get_send_quota", {}, _quota),
    Operation(
        "SendEmail",
        "Send e-mail",
        "Sends an e-mail through Amazon SES (SendEmail) from configuration.fromAddress.",
        SendEmailParameters,
        {"type": "object", "properties": {"messageId": {"type": "string"}}},
        _send_email,
    ),
)
