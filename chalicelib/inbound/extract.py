"""Reading the vendor's delivery id, event name and payload out of a verified request.

Each vendor puts them somewhere else (GitHub in headers, Stripe in the body,
Slack inside ``event``); the 004 envelope names them outright. Anything a
scheme requires but the request lacks is a ``ValidationFailed``, never a 500: a
400 for a 004 envelope, a delivery stored ``Failed`` for a vendor's own form
(``chalicelib.inbound.service``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from pydantic import ValidationError

from chalicelib.core import jsontext
from chalicelib.core.errors import FieldError, ValidationFailed
from chalicelib.inbound.models import Envelope
from chalicelib.inbound.signatures.base import SignedRequest

MAX_ID_LENGTH = 256


@dataclass(frozen=True)
class Extracted:
    provider_delivery_id: str
    event_name: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class Challenge:
    """Slack's ``url_verification``: echo the challenge, store nothing."""

    challenge: str


def _json_object(body: bytes, what: str = "body") -> dict[str, Any]:
    try:
        document = jsontext.loads(body)  # numbers kept exactly as the vendor wrote them
    except jsontext.JsonRejected as exc:
        if exc.reason == "depth":
            raise ValidationFailed("The body is nested too deeply.", [FieldError(what, "too deep")]) from exc
        raise ValidationFailed(f"The {what} is not valid JSON.", [FieldError(what, "not JSON")]) from exc
    if not isinstance(document, dict):
        raise ValidationFailed(f"The {what} must be a JSON object.", [FieldError(what, "not an object")])
    return document


def _text(value: Any, field: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_ID_LENGTH:
        raise ValidationFailed(
            f"The delivery has no usable {field}.", [FieldError(field, f"required, at most {MAX_ID_LENGTH} characters")]
        )
    return value.strip()


def _form(request: SignedRequest) -> dict[str, str] | None:
    content_type = (request.header("content-type") or "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return None
    try:
        fields = parse_qs(request.body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError as exc:
        raise ValidationFailed("The form body is not UTF-8.", [FieldError("body", "not UTF-8")]) from exc
    return {name: values[0] for name, values in fields.items()}


def body_digest(body: bytes) -> str:
    """An id for senders that give none: the same body twice is the same delivery."""
    return "sha256-" + hashlib.sha256(body).hexdigest()[:32]


def envelope(body: bytes) -> Extracted:
    document = _json_object(body)
    try:
        parsed = Envelope.model_validate(document)
    except ValidationError as exc:
        details = [FieldError(".".join(str(p) for p in e["loc"]) or "body", e["msg"]) for e in exc.errors()]
        raise ValidationFailed("The delivery envelope is not valid.", details) from exc
    return Extracted(parsed.provider_delivery_id, parsed.event_name, parsed.payload)


def _github(request: SignedRequest, claims: dict[str, Any] | None) -> Extracted:
    form = _form(request)
    payload = _json_object(form["payload"].encode(), "payload") if form and "payload" in form else None
    return Extracted(
        _text(request.header("X-GitHub-Delivery"), "X-GitHub-Delivery"),
        _text(request.header("X-GitHub-Event"), "X-GitHub-Event"),
        payload if payload is not None else _json_object(request.body),
    )


def _stripe(request: SignedRequest, claims: dict[str, Any] | None) -> Extracted:
    body = _json_object(request.body)
    return Extracted(_text(body.get("id"), "id"), _text(body.get("type"), "type"), body)


def _slack(request: SignedRequest, claims: dict[str, Any] | None) -> Extracted | Challenge:
    form = _form(request)
    if form is not None:
        if "payload" in form:  # interactivity: block_actions, view_submission, shortcuts
            payload = _json_object(form["payload"].encode(), "payload")
            delivery = payload.get("trigger_id") or body_digest(request.body)
            return Extracted(_text(delivery, "trigger_id"), _text(payload.get("type"), "type"), payload)
        delivery = form.get("trigger_id") or body_digest(request.body)
        return Extracted(_text(delivery, "trigger_id"), "slash_command", dict(form))
    body = _json_object(request.body)
    if body.get("type") == "url_verification":
        return Challenge(_text(body.get("challenge"), "challenge"))
    if body.get("type") == "event_callback":
        inner = body.get("event")
        name = inner.get("type") if isinstance(inner, dict) else None
        return Extracted(_text(body.get("event_id"), "event_id"), _text(name, "event.type"), body)
    delivery = body.get("event_id") or body_digest(request.body)
    return Extracted(_text(delivery, "event_id"), _text(body.get("type"), "type"), body)


def _shopify(request: SignedRequest, claims: dict[str, Any] | None) -> Extracted:
    delivery = request.header("X-Shopify-Webhook-Id") or request.header("X-Shopify-Event-Id")
    return Extracted(
        _text(delivery, "X-Shopify-Webhook-Id"),
        _text(request.header("X-Shopify-Topic"), "X-Shopify-Topic"),
        _json_object(request.body),
    )


def _standard(request: SignedRequest, claims: dict[str, Any] | None) -> Extracted:
    body = _json_object(request.body)
    delivery = request.header("webhook-id") or request.header("svix-id")
    return Extracted(_text(delivery, "webhook-id"), _text(body.get("type"), "type"), body)


_ID_HEADERS = ("X-Delivery-Id", "X-Webhook-Id", "X-Event-Id", "X-Request-Id", "Idempotency-Key", "webhook-id")
_NAME_HEADERS = ("X-Event-Type", "X-Event-Name", "X-Event")
_ID_FIELDS = ("id", "eventId", "event_id", "deliveryId", "jti")
_NAME_FIELDS = ("type", "eventType", "event_type", "eventName", "event")


def _generic(request: SignedRequest, claims: dict[str, Any] | None) -> Extracted:
    payload = claims if claims is not None else _json_object(request.body)
    delivery = next((v for v in map(request.header, _ID_HEADERS) if v), None)
    delivery = delivery or next((payload[f] for f in _ID_FIELDS if payload.get(f)), None) or body_digest(request.body)
    name = next((v for v in map(request.header, _NAME_HEADERS) if v), None)
    name = name or next((payload[f] for f in _NAME_FIELDS if isinstance(payload.get(f), str)), None)
    return Extracted(_text(delivery, "deliveryId"), _text(name, "eventName"), payload)


def _twilio(request: SignedRequest, claims: dict[str, Any] | None) -> Extracted:
    """A status callback: each status of a message is its own delivery."""
    form = _form(request) or {}
    sid = _text(form.get("MessageSid") or form.get("SmsSid"), "MessageSid")
    status = _text(form.get("MessageStatus") or form.get("SmsStatus"), "MessageStatus")
    return Extracted(f"{sid}:{status}", f"message.{status}", dict(form))


def _aws_sns(request: SignedRequest, claims: dict[str, Any] | None) -> Extracted:
    """An SNS notification; a JSON ``Message`` (SES events) is the payload, named by its event type."""
    message = claims or {}
    try:
        inner = jsontext.loads(str(message.get("Message", "")).encode())
    except jsontext.JsonRejected:
        inner = None
    payload = inner if isinstance(inner, dict) else {"message": message.get("Message")}
    name = payload.get("eventType") or payload.get("notificationType") or message.get("Type")
    payload = {**payload, "topicArn": message.get("TopicArn")}
    return Extracted(_text(message.get("MessageId"), "MessageId"), _text(name, "eventType"), payload)


VENDOR_FORMS: dict[str, Callable[[SignedRequest, dict[str, Any] | None], Extracted | Challenge]] = {
    "github": _github,
    "stripe": _stripe,
    "slack": _slack,
    "shopify": _shopify,
    "standard-webhooks": _standard,
    "twilio": _twilio,
    "aws-sns": _aws_sns,
}


def vendor(scheme: str, request: SignedRequest, claims: dict[str, Any] | None) -> Extracted | Challenge:
    return VENDOR_FORMS.get(scheme, _generic)(request, claims)
