"""SSRF: every refused address class, by IP and by a hostname that resolves to it.

The hostnames are numeric forms (``2852039166`` is 169.254.169.254) that
``getaddrinfo`` resolves offline exactly like a DNS name, which is how such
names slip past checks that only parse dotted IPs; ``localhost`` resolves
through /etc/hosts. Tests run with the local stage's policy, so the deployed
policy is switched on by clearing the settings cache with the flag off.
"""

from __future__ import annotations

import pytest

from tests.outbound.conftest import QueueDriver
from tests.outbound.helpers import attempts, publish, subscribe
from tests.support.api_client import ApiClient
from tests.support.receiver import serve_receiver

REFUSED_EVERYWHERE = [
    ("link-local", "169.254.169.254"),
    ("link-local", "2852039166"),
    ("link-local", "[::ffff:169.254.169.254]"),
    ("link-local", "[fe80::1]"),
    ("private", "10.0.0.1"),
    ("private", "167772161"),
    ("private", "192.168.1.1"),
    ("private", "[fd00::1]"),
    ("carrier-grade NAT", "100.64.0.1"),
    ("carrier-grade NAT", "1681915905"),
    ("reserved", "240.0.0.1"),
    ("reserved", "4026531841"),
    ("reserved", "0.0.0.0"),
    ("reserved", "0"),
]
# Python's ipaddress lists 240/4 and 0/8 among the non-global "private" networks
# (RFC 6890), so the policy may name either word for them; both are refusals.
WORDS = {"reserved": ("reserved", "private")}
LOOPBACK = ["127.0.0.1", "2130706433", "0x7f000001", "localhost", "[::1]"]


def refused(client: ApiClient, url: str) -> str:
    reply = client.post("/webhooks/subscriptions", {"eventType": "X", "endpointUrl": url})
    assert reply.status == 400, (url, reply.json)
    assert reply.json["error"]["code"] == "VALIDATION_ERROR"
    message: str = reply.json["error"]["message"]
    return message


@pytest.mark.parametrize(("kind", "host"), REFUSED_EVERYWHERE)
def test_refused_in_the_deployed_policy(client: ApiClient, deployed_policy: None, kind: str, host: str) -> None:
    message = refused(client, f"https://{host}/hook")
    assert any(word in message for word in WORDS.get(kind, (kind,))), message


@pytest.mark.parametrize(("kind", "host"), REFUSED_EVERYWHERE)
def test_refused_even_in_the_local_stage(client: ApiClient, kind: str, host: str) -> None:
    message = refused(client, f"http://{host}/hook")
    assert any(word in message for word in WORDS.get(kind, (kind,))), message


@pytest.mark.parametrize("host", LOOPBACK)
def test_loopback_only_in_the_local_stage(client: ApiClient, deployed_policy: None, host: str) -> None:
    assert "loopback" in refused(client, f"https://{host}:8443/hook")


def test_deployed_stages_require_https(client: ApiClient, deployed_policy: None) -> None:
    assert "https" in refused(client, "http://hooks.partner.example/connectsoft")
    assert "https" in refused(client, "ftp://127.0.0.1/x")


def test_the_address_is_checked_again_at_send_time(client: ApiClient, driver: QueueDriver) -> None:
    """A stored URL whose resolution became unsafe is not called (DNS rebinding)."""
    import os

    from chalicelib.core.config import get_settings

    with serve_receiver() as receiver:
        sub = subscribe(client, receiver, ["*"])
        os.environ["ALLOW_INSECURE_URLS"] = "false"
        get_settings.cache_clear()
        try:
            publish(client, "Rebound", {})
            [message] = driver.receive()
            driver.invoke([message])
        finally:
            os.environ["ALLOW_INSECURE_URLS"] = "true"
            get_settings.cache_clear()
        assert receiver.received == []
        [attempt] = attempts(client, sub["subscriptionId"])
        assert attempt["status"] == "Retrying"
        assert "refused by the URL policy" in attempt["error"]
        driver.drain()
        assert len(receiver.accepted()) == 1, "once the address is allowed again, the retry gets through"
