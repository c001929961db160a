"""The outbound URL policy per address class, on a local stage and on a deployed one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chalicelib.core.urls import UnsafeUrl, address_refusal, check_url
from tests.core.env import settings_env


@pytest.fixture(params=[True, False], ids=["insecure-allowed", "deployed"])
def insecure(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[bool]:
    allowed: bool = request.param
    with settings_env(monkeypatch, ALLOW_INSECURE_URLS="true" if allowed else "false"):
        yield allowed


REFUSED_EVERYWHERE = {
    "10.0.0.1": "private",
    "172.16.5.4": "private",
    "192.168.1.1": "private",
    "fc00::1": "private",
    "169.254.169.254": "link-local",
    "fe80::1": "link-local",
    "100.64.0.1": "carrier-grade NAT",
    "100.127.255.254": "carrier-grade NAT",
    "0.0.0.0": "",
    "240.0.0.1": "",
    "224.0.0.1": "",
    "::": "",
    "::ffff:10.0.0.1": "private",
    "::ffff:169.254.169.254": "link-local",
    "::ffff:100.64.0.1": "carrier-grade NAT",
}
LOOPBACK = ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"]


def url_for(address: str, scheme: str) -> str:
    host = f"[{address}]" if ":" in address else address
    return f"{scheme}://{host}:8443/path"


@pytest.mark.parametrize(("address", "reason"), REFUSED_EVERYWHERE.items())
def test_non_public_addresses_are_refused(insecure: bool, address: str, reason: str) -> None:
    with pytest.raises(UnsafeUrl) as refused:
        check_url(url_for(address, "https"), "endpointUrl")
    assert reason in refused.value.message
    assert [d.field for d in refused.value.details] == ["endpointUrl"]


@pytest.mark.parametrize("address", LOOPBACK)
def test_loopback_only_when_insecure_urls_are_allowed(insecure: bool, address: str) -> None:
    if insecure:
        assert check_url(url_for(address, "http"), "baseUrl") == url_for(address, "http")
    else:
        with pytest.raises(UnsafeUrl, match="loopback"):
            check_url(url_for(address, "https"), "baseUrl")


@pytest.mark.parametrize("host", ["localhost", "api.localhost", "LOCALHOST"])
def test_localhost_names_count_as_loopback(insecure: bool, host: str) -> None:
    if insecure:
        check_url(f"http://{host}:9000/", "baseUrl")
    else:
        with pytest.raises(UnsafeUrl, match="loopback"):
            check_url(f"https://{host}/", "baseUrl")


def test_http_only_when_insecure_urls_are_allowed(insecure: bool) -> None:
    if insecure:
        check_url("http://93.184.216.34/", "baseUrl")
    else:
        with pytest.raises(UnsafeUrl, match="https"):
            check_url("http://93.184.216.34/", "baseUrl")


@pytest.mark.parametrize("url", ["https://93.184.216.34/x", "https://[2606:4700::1111]/", "https://8.8.8.8:443"])
def test_public_https_is_allowed(insecure: bool, url: str) -> None:
    assert check_url(url, "baseUrl") == url


def test_names_are_not_resolved_when_told_not_to(insecure: bool) -> None:
    assert check_url("https://api.vendor.example/v1", "baseUrl", resolve_host=False) == "https://api.vendor.example/v1"


@pytest.mark.parametrize(
    "url", ["ftp://93.184.216.34/", "file:///etc/passwd", "https://", "http://[::1", "https://1.1.1.1:99999/", "x"]
)
def test_malformed_or_foreign_urls_are_refused(insecure: bool, url: str) -> None:
    with pytest.raises(UnsafeUrl):
        check_url(url, "baseUrl")


def test_address_refusal_reasons() -> None:
    assert address_refusal("127.0.0.1", allow_loopback=True) is None
    assert address_refusal("127.0.0.1", allow_loopback=False) == "a loopback address"
    assert address_refusal("169.254.169.254", allow_loopback=True) == "a link-local (metadata) address"
    assert address_refusal("100.64.0.1", allow_loopback=True) == "a carrier-grade NAT address"
    assert address_refusal("1.1.1.1", allow_loopback=False) is None
