"""Outbound URL policy: which vendor base URLs and webhook endpoints may be called.

Deployed stages call only https URLs whose every resolved address is public;
the local stage may also use http and loopback so the whole platform can be
tried on one machine. Link-local (cloud metadata) addresses are refused
everywhere. The check runs when a URL is stored and again before each send,
because DNS can change in between (rebinding).

An IPv6 address that carries an IPv4 address (IPv4-mapped and -compatible,
6to4, Teredo, NAT64) is judged by the IPv4 it carries, since that is where its
packets end up: ``[2002:a9fe:a9fe::]`` is the metadata service in disguise.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from chalicelib.core.config import get_settings
from chalicelib.core.errors import FieldError, ValidationFailed

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # RFC 4291, deprecated; :: and ::1 excluded below
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052 well-known prefix
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215 local-use prefix


class UnsafeUrl(ValidationFailed):
    """A URL that the platform refuses to call."""


def address_refusal(address: str, allow_loopback: bool) -> str | None:
    """Why ``address`` may not be called, or ``None`` when it may."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv4Address):
        return _refusal(ip, allow_loopback)
    carried = embedded_ipv4(ip)
    for inner in carried:
        reason = _refusal(inner, allow_loopback)
        if reason:
            return reason
    if ip in _NAT64_LOCAL:
        return "a private address"  # a translator inside someone's own network (RFC 8215)
    return None if carried else _refusal(ip, allow_loopback)


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries; Teredo carries its server's and its client's."""
    if ip.ipv4_mapped:
        return [ip.ipv4_mapped]
    if ip.sixtofour:
        return [ip.sixtofour]
    if ip.teredo:
        return list(ip.teredo)
    if ip in _NAT64 or ip in _NAT64_LOCAL or (ip in _IPV4_COMPATIBLE and int(ip) > 1):
        return [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)]
    return []


def _refusal(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, allow_loopback: bool) -> str | None:
    if ip.is_link_local:
        return "a link-local (metadata) address"
    if ip.is_loopback:
        return None if allow_loopback else "a loopback address"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return "a carrier-grade NAT address"
    if ip.is_private:
        return "a private address"
    if ip.is_multicast or ip.is_reserved or ip.is_unspecified:
        return "a reserved address"
    return None


def resolve(host: str) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeUrl(f"The host '{host}' does not resolve.") from exc
    return sorted({str(info[4][0]) for info in infos})


def check_url(url: str, field: str, *, resolve_host: bool = True) -> str:
    """Return ``url`` if the platform may call it, else raise ``UnsafeUrl``."""
    insecure_ok = get_settings().allow_insecure_urls
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError for a port outside 0..65535
    except ValueError as exc:
        raise UnsafeUrl(f"{field} is not a valid URL.", [FieldError(field, "malformed URL")]) from exc
    allowed_schemes = {"https", "http"} if insecure_ok else {"https"}
    if parts.scheme not in allowed_schemes:
        raise UnsafeUrl(f"{field} must use https.", [FieldError(field, "scheme not allowed")])
    host = parts.hostname
    if not host:
        raise UnsafeUrl(f"{field} has no host.", [FieldError(field, "missing host")])
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        if host.lower() == "localhost" or host.lower().endswith(".localhost"):
            addresses = ["127.0.0.1"]
        elif not resolve_host:
            return url
        else:
            addresses = resolve(host)
    for address in addresses:
        reason = address_refusal(address, allow_loopback=insecure_ok)
        if reason:
            raise UnsafeUrl(f"{field} points at {reason} ({address}).", [FieldError(field, reason)])
    return url
