"""Every failure class as the adapter layer reports it to the worker."""

from __future__ import annotations

import time

import pytest

from chalicelib.adapters import generic_http, github, slack
from chalicelib.adapters.auth import Credential
from chalicelib.adapters.base import ExecutionContext
from chalicelib.adapters.errors import (
    ConfigurationError,
    VendorBadResponse,
    VendorRejected,
    VendorTimeout,
    VendorUnauthorized,
    VendorUnavailable,
    redact,
)
from chalicelib.providers.models import AuthModel
from tests.support.fake_vendor import FakeVendor, malformed_json, rate_limited, server_error, slow, unauthorized

TOKEN = "ghp_supersecretvalue123456"
CREDENTIAL = Credential(AuthModel.BEARER_TOKEN, {"token": TOKEN})
REPO = {"owner": "octo", "repo": "hello"}


def ctx(url: str, timeout: float = 5.0) -> ExecutionContext:
    return ExecutionContext(base_url=url, timeout=timeout)


@pytest.fixture(autouse=True)
def _credential(vendor: FakeVendor) -> None:
    vendor.expect_bearer(TOKEN)


def test_429_is_retryable_with_retry_after(vendor: FakeVendor) -> None:
    vendor.fail_next(rate_limited(7))
    with pytest.raises(VendorUnavailable) as raised:
        github.ADAPTER.execute("GetRepository", REPO, CREDENTIAL, ctx(vendor.url))
    assert raised.value.retryable and raised.value.retry_after == 7.0 and raised.value.vendor_status == 429
    assert (raised.value.code, raised.value.status) == ("EXTERNAL_SERVICE_ERROR", 502)


def test_500_is_retryable(vendor: FakeVendor) -> None:
    vendor.fail_next(server_error())
    with pytest.raises(VendorUnavailable) as raised:
        github.ADAPTER.execute("GetRepository", REPO, CREDENTIAL, ctx(vendor.url))
    assert raised.value.retryable and raised.value.vendor_status == 500


def test_slow_vendor_times_out(vendor: FakeVendor) -> None:
    vendor.fail_next(slow(2.0))
    started = time.monotonic()
    with pytest.raises(VendorTimeout) as raised:
        github.ADAPTER.execute("GetRepository", REPO, CREDENTIAL, ctx(vendor.url, timeout=0.3))
    assert time.monotonic() - started < 1.5
    assert raised.value.retryable and (raised.value.code, raised.value.status) == ("EXTERNAL_SERVICE_TIMEOUT", 504)


def test_401_is_unauthorized_and_not_retryable(vendor: FakeVendor) -> None:
    vendor.fail_next(unauthorized())
    with pytest.raises(VendorUnauthorized) as raised:
        github.ADAPTER.execute("GetRepository", REPO, CREDENTIAL, ctx(vendor.url))
    assert not raised.value.retryable and raised.value.vendor_status == 401


def test_malformed_json_is_a_final_bad_response(vendor: FakeVendor) -> None:
    vendor.fail_next(malformed_json())
    with pytest.raises(VendorBadResponse) as raised:
        github.ADAPTER.execute("GetRepository", REPO, CREDENTIAL, ctx(vendor.url))
    assert not raised.value.retryable and raised.value.code == "EXTERNAL_SERVICE_ERROR"


def test_4xx_is_final_with_the_vendors_message_and_no_secret(vendor: FakeVendor) -> None:
    with pytest.raises(VendorRejected) as raised:
        generic_http.ADAPTER.execute("Request", {"path": "/leak"}, CREDENTIAL, ctx(vendor.url))
    assert raised.value.vendor_status == 400 and not raised.value.retryable
    assert "bad request from" in raised.value.message
    assert TOKEN not in raised.value.message and "***" in raised.value.message
    with pytest.raises(VendorRejected) as missing:
        generic_http.ADAPTER.execute("Request", {"path": "/repos/octo/hello/nothing"}, CREDENTIAL, ctx(vendor.url))
    assert missing.value.vendor_status == 404 and missing.value.message == "The vendor answered 404: Not Found"


def test_redact_strips_known_and_credential_shaped_values() -> None:
    text = redact(
        "token=abc123456 Authorization: Bearer eyJhbGciOi.xyz ghp_abcdefghijklmnop my-secret-1", ["my-secret-1"]
    )
    assert "abc123456" not in text and "eyJhbGciOi" not in text and "ghp_abcdefghijklmnop" not in text
    assert "my-secret-1" not in text


def test_unreachable_vendor_is_retryable(vendor: FakeVendor) -> None:
    with pytest.raises(VendorUnavailable):
        github.ADAPTER.execute("GetRepository", REPO, CREDENTIAL, ctx("http://127.0.0.1:9"))


def test_unsafe_base_url_is_refused_at_send_time(vendor: FakeVendor) -> None:
    with pytest.raises(ConfigurationError) as raised:
        github.ADAPTER.execute("GetRepository", REPO, CREDENTIAL, ctx("http://169.254.169.254"))
    assert "link-local" in raised.value.message
    with pytest.raises(ConfigurationError):
        github.ADAPTER.execute("GetRepository", REPO, CREDENTIAL, ctx(""))


def test_health_check_reports_accepted_and_refused_credentials(vendor: FakeVendor) -> None:
    assert slack.ADAPTER.health_check(CREDENTIAL, ctx(vendor.url)).healthy
    refused = slack.ADAPTER.health_check(Credential(AuthModel.BEARER_TOKEN, {"token": "other"}), ctx(vendor.url))
    assert not refused.healthy and refused.vendor_status == 401
