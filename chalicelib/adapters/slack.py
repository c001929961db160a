"""Slack Web API: posting messages.

Slack answers most errors with HTTP 200 and ``{"ok": false, "error": "..."}``;
``interpret`` turns those into a final failure with Slack's error code, except
``ratelimited``, which is worth retrying like a 429.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from chalicelib.adapters.auth import Credential
from chalicelib.adapters.base import Adapter, ExecutionContext, Operation, Parameters
from chalicelib.adapters.errors import VendorBadResponse, VendorRejected, VendorUnauthorized, VendorUnavailable, redact
from chalicelib.adapters.http import VendorRequest, VendorResponse

_AUTH_ERRORS = {"not_authed", "invalid_auth", "token_expired", "token_revoked", "account_inactive"}


class PostMessageParameters(Parameters):
    channel: Annotated[str, Field(min_length=1, max_length=200, description="Channel id (C...) or name")]
    text: Annotated[str, Field(min_length=1, max_length=40000)]
    thread_ts: Annotated[str, Field(max_length=40)] | None = None
    blocks: Annotated[list[dict[str, Any]], Field(max_length=50)] | None = None
    unfurl_links: bool | None = None


def _post_message(parameters: PostMessageParameters, context: ExecutionContext) -> VendorRequest:
    body = parameters.model_dump(exclude_none=True)
    return VendorRequest(
        "POST", "/chat.postMessage", json_body=body, headers={"Content-Type": "application/json; charset=utf-8"}
    )


class SlackAdapter(Adapter):
    provider_key = "slack"
    health_request = VendorRequest("POST", "/auth.test")

    def interpret(self, response: VendorResponse, credential: Credential) -> Any:
        document = response.json()
        if not isinstance(document, dict):
            raise VendorBadResponse("Slack answered with something other than a JSON object.")
        if document.get("ok") is True:
            return document
        error = redact(str(document.get("error") or "unknown_error"), credential.secrets())
        message = f"Slack refused the call: {error}"
        if error in _AUTH_ERRORS:
            raise VendorUnauthorized(message, response.status)
        if error == "ratelimited":
            raise VendorUnavailable(message, response.status)
        raise VendorRejected(message, response.status)


ADAPTER = SlackAdapter(
    Operation(
        "PostMessage",
        "Post Message",
        "Posts a message to a channel (chat.postMessage). An answer with ok=false fails the run with Slack's error.",
        PostMessageParameters,
        {
            "type": "object",
            "properties": {"ok": {"type": "boolean"}, "channel": {"type": "string"}, "ts": {"type": "string"}},
        },
        _post_message,
    ),
)
