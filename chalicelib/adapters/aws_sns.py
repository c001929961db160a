"""Amazon SNS: ``SendSms`` as a Publish to a phone number, under the platform's role.

``configuration.senderId`` and ``configuration.smsType`` (``Transactional``, the
default, or ``Promotional``) become the SMS message attributes. SNS reports SMS
delivery to CloudWatch Logs, not to a webhook, so these runs carry no ``delivery``
status (docs/webhooks-inbound.md "Delivery status").
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from chalicelib.adapters.aws_services import AwsAdapter, AwsCall
from chalicelib.adapters.base import ExecutionContext, Operation, Parameters
from chalicelib.adapters.errors import ConfigurationError
from chalicelib.core import aws


class SendSmsParameters(Parameters):
    to: Annotated[str, Field(pattern=r"^\+[1-9][0-9]{6,14}$", description="E.164 number of the recipient")]
    body: Annotated[str, Field(min_length=1, max_length=1600)]


def _string(value: str) -> dict[str, str]:
    return {"DataType": "String", "StringValue": value}


def _send_sms(parameters: SendSmsParameters, context: ExecutionContext) -> AwsCall:
    sms_type = context.configuration.get("smsType") or "Transactional"
    if sms_type not in ("Transactional", "Promotional"):
        raise ConfigurationError("configuration.smsType is Transactional or Promotional.")
    attributes = {"AWS.SNS.SMS.SMSType": _string(sms_type)}
    sender = context.configuration.get("senderId")
    if isinstance(sender, str) and sender:
        attributes["AWS.SNS.SMS.SenderID"] = _string(sender)
    arguments: dict[str, Any] = {
        "PhoneNumber": parameters.to,
        "Message": parameters.body,
        "MessageAttributes": attributes,
    }
    return AwsCall(aws.sns, "publish", arguments, lambda answer: {"messageId": answer["MessageId"]})


class SnsSmsAdapter(AwsAdapter):
    provider_key = "aws-sns"


def _sms_settings(answer: dict[str, Any]) -> str:
    sms_type = answer.get("attributes", {}).get("DefaultSMSType", "unset")
    return f"SNS answered GetSMSAttributes (default SMS type {sms_type})."


ADAPTER = SnsSmsAdapter(
    AwsCall(aws.sns, "get_sms_attributes", {}, _sms_settings),
    Operation(
        "SendSms",
        "Send SMS",
        "Sends a text message through Amazon SNS (Publish with PhoneNumber).",
        SendSmsParameters,
        {"type": "object", "properties": {"messageId": {"type": "string"}}},
        _send_sms,
    ),
)
