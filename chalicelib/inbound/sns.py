"""What only SNS deliveries need after the signature: the topic check and subscription confirmation.

Anyone with an AWS account can make SNS sign a message for their own topic, so a
verified signature proves only that AWS sent it: the connection names the topics
it accepts in ``configuration.snsTopicArns``. A ``SubscriptionConfirmation`` is
confirmed by fetching its ``SubscribeURL`` (an SNS host only) and stores nothing.
"""

from __future__ import annotations

from typing import Any

from chalicelib.connections.models import Connection
from chalicelib.core import http
from chalicelib.core.errors import AuthenticationFailed, ServiceUnavailable
from chalicelib.core.logging import logger
from chalicelib.core.urls import UnsafeUrl
from chalicelib.inbound.signatures.aws_sns import trusted_aws_url


def admit(connection: Connection, message: dict[str, Any]) -> dict[str, Any] | None:
    """``None`` to store the notification; an answer for a (un)subscription message, which is not stored."""
    topics = connection.configuration.get("snsTopicArns")
    if not isinstance(topics, list) or message.get("TopicArn") not in topics:
        logger.warning(
            "inbound SNS message from a topic the connection does not accept",
            extra={"connection_id": connection.connection_id, "tenant_id": connection.tenant_id},
        )
        raise AuthenticationFailed("The webhook signature could not be verified.")
    kind = message.get("Type")
    if kind == "UnsubscribeConfirmation":
        return {"subscription": "Unsubscribed"}
    if kind != "SubscriptionConfirmation":
        return None
    url = message.get("SubscribeURL")
    if not isinstance(url, str) or not trusted_aws_url(url):
        raise AuthenticationFailed("The webhook signature could not be verified.")
    try:
        answer = http.exchange(
            "GET", url, field="SubscribeURL", body=None, headers={}, connect_timeout=3, read_timeout=5, max_body=65536
        )
    except (UnsafeUrl, http.TransportError) as exc:
        raise ServiceUnavailable("The SNS subscription could not be confirmed; SNS retries.") from exc
    if answer.status != 200:
        raise ServiceUnavailable("The SNS subscription could not be confirmed; SNS retries.")
    return {"subscription": "Confirmed"}
