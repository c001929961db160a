"""The outbound URL policy per address class, on a local stage and on a deployed one."""

from __future__ import annotations

import socket
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
# IPv6 addresses that carry an IPv4 one, by form: each is judged by the IPv4 it carries.
TEREDO_SERVER = "4136:e378"  # 65.54.227.120, a public Teredo server; the client IPv4 is stored XOR-ed
CARRIED_REFUSED = {
    "2002:a9fe:a9fe::": "link-local",  # 6to4 of 169.254.169.254
    "2002:a00:1::": "private",  # 6to4 of 10.0.0.1
    "2002:6440:1::": "carrier-grade NAT",  # 6to4 of 100.64.0.1
    f"2001:0:{TEREDO_SERVER}:8000:ffff:5601:5601": "link-local",  # Teredo client 169.254.169.254
    f"2001:0:{TEREDO_SERVER}:8000:ffff:f5ff:fffe": "private",  # Teredo client 10.0.0.1
    "2001:0:a9fe:a9fe:8000:ffff:a247:27dd": "link-local",  # Teredo server 169.254.169.254
    "64:ff9b::a9fe:a9fe": "link-local",  # NAT64 well-known prefix
    "64:ff9b::a00:1": "private",
    "64:ff9b:1::a9fe:a9fe": "link-local",  # NAT64 local-use prefix
    "64:ff9b:1::5db8:d822": "private",  # local-use NAT64 is refused even for a public IPv4
    "::a9fe:a9fe": "link-local",  # IPv4-compatible
    "::a00:1": "private",
    "::6440:1": "carrier-grade NAT",
}
CARRIED_LOOPBACK = ["2002:7f00:1::", f"2001:0:{TEREDO_SERVER}:8000:ffff:80ff:fffe", "64:ff9b::7f00:1", "::7f00:1"]
CARRIED_PUBLIC = [  # each carries 93.184.216.34
    "2002:5db8:d822::",
    f"2001:0:{TEREDO_SERVER}:8000:ffff:a247:27dd",
    "64:ff9b::5db8:d822",
    "::5db8:d822",
]
LOOPBACK = ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1", *CARRIED_LOOPBACK]


def url_for(address: str, scheme: str) -> str:
    host = f"[{address}]" if ":" in address else address
    return f"{scheme}://{host}:8443/path"


@pytest.mark.parametrize(("address", "reason"), {**REFUSED_EVERYWHERE, **CARRIED_REFUSED}.items())
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


@pytest.mark.parametrize(
    "url",
    ["https://93.184.216.34/x", "https://[2606:4700::1111]/", "https://8.8.8.8:443"]
    + [url_for(address, "https") for address in CARRIED_PUBLIC],
)
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


def test_6to4_metadata_address_is_refused() -> None:
    assert address_refusal("2002:a9fe:a9fe::", allow_loopback=True) == "a link-local (metadata) address"
    with pytest.raises(UnsafeUrl, match="link-local"):
        check_url("https://[2002:a9fe:a9fe::]/latest/meta-data/", "baseUrl")


@pytest.mark.parametrize(("address", "reason"), CARRIED_REFUSED.items())
@pytest.mark.parametrize("allow_loopback", [True, False])
def test_address_refusal_judges_the_carried_ipv4(address: str, reason: str, allow_loopback: bool) -> None:
    refusal = address_refusal(address, allow_loopback=allow_loopback)
    assert refusal is not None
    assert reason in refusal


@pytest.mark.parametrize("address", CARRIED_LOOPBACK)
def test_address_refusal_carried_loopback(address: str) -> None:
    assert address_refusal(address, allow_loopback=True) is None
    assert address_refusal(address, allow_loopback=False) == "a loopback address"


@pytest.mark.parametrize("address", CARRIED_PUBLIC)
def test_address_refusal_carried_public(address: str) -> None:
    assert address_refusal(address, allow_loopback=False) is None


def test_a_name_resolving_to_a_6to4_metadata_address_is_refused(
    insecure: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    def getaddrinfo(host: str, *_: object, **__: object) -> list[tuple[object, ...]]:
        return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("2002:a9fe:a9fe::", 443, 0, 0))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    with pytest.raises(UnsafeUrl, match="link-local"):
        check_url("https://rebound.vendor.example/", "endpointUrl")
