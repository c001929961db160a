"""The SDK parses every answer, error and webhook body with its guarded reader: a deep text is a clean error."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from integration_platform import jsonread
from integration_platform.errors import ServerError, error_for
from integration_platform.transport import Response
from integration_platform.webhooks import WebhookVerificationError, verify

DEEP = b"[" * 1000 + b"]" * 1000


def test_the_reader_bounds_nesting_and_size() -> None:
    with pytest.raises(RecursionError):
        json.loads(DEEP)
    for text in (DEEP, DEEP.decode(), b'{"a":' * 5000):
        with pytest.raises(jsonread.JsonRejected):
            jsonread.read(text)
    assert jsonread.read(json.dumps({"s": "[" * 5000})) == {"s": "[" * 5000}  # brackets in strings are text
    with pytest.raises(jsonread.JsonRejected):
        jsonread.read(b"[1, 2, 3]", max_bytes=4)


def test_an_answer_nested_too_deeply_is_a_value_error_and_an_error_body_still_gives_its_type() -> None:
    with pytest.raises(ValueError, match="nested deeper"):
        Response(200, {}, DEEP).json()
    assert isinstance(error_for(500, DEEP, {}, None), ServerError)


def test_a_correctly_signed_webhook_body_nested_too_deeply_fails_verification_cleanly() -> None:
    key = b"k" * 32
    signed = hmac.new(key, b"evt-1.1700000000." + DEEP, hashlib.sha256).digest()
    headers = {"webhook-id": "evt-1", "webhook-timestamp": "1700000000", "webhook-signature": "v1," + b64(signed)}
    with pytest.raises(WebhookVerificationError, match="not JSON"):
        verify(DEEP, headers, "whsec_" + b64(key), now=1_700_000_000)


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()
