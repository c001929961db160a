"""Where ``Client.from_env`` (and so ``ipctl``) finds the platform and the credentials."""

from __future__ import annotations

import socket

import pytest
from integration_platform import Client, RetryPolicy
from integration_platform.errors import NotFoundError, TransportError


def test_arguments_beat_the_environment() -> None:
    environ = {"IPCTL_URL": "http://env:1", "IPCTL_TOKEN": "env-token", "PORT": "9"}
    client = Client.from_env(environ, url="http://flag:2", token="flag-token")
    assert client.transport.base_url == "http://flag:2"
    assert client.transport.headers["Authorization"] == "Bearer flag-token"


def test_the_environment_gives_url_token_and_api_key() -> None:
    client = Client.from_env({"IPCTL_URL": "http://env:1", "IPCTL_TOKEN": "t", "IPCTL_API_KEY": "k"})
    assert client.transport.base_url == "http://env:1"
    assert client.transport.headers["Authorization"] == "Bearer t"
    assert client.transport.headers["X-API-Key"] == "k"


def test_without_a_url_it_is_the_local_runtime_on_port() -> None:
    assert Client.from_env({"PORT": "9123"}).transport.base_url == "http://127.0.0.1:9123"
    assert Client.from_env({}).transport.base_url == "http://127.0.0.1:8000"
    assert "Authorization" not in Client.from_env({}).transport.headers


def test_the_vendor_facing_operations_go_to_the_ingest_url() -> None:
    """A deployed stage serves them on its ingest HTTP API only; locally one server serves both (docs/deploy.md)."""
    deployed = Client.from_env(
        {"IPCTL_URL": "https://mgmt/api", "IPCTL_INGEST_URL": "https://ingest", "IPCTL_TOKEN": "t"}
    )
    assert (deployed.transport.base_url, deployed.ingest_transport.base_url) == ("https://mgmt/api", "https://ingest")
    assert deployed.ingest_transport.headers == deployed.transport.headers
    assert Client.from_env({"PORT": "9123"}).ingest_transport.base_url == "http://127.0.0.1:9123"


def test_each_operation_reaches_its_own_front(http_api: str) -> None:
    """With the other front's address closed, a call sent to the wrong one would fail to connect."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{closed.getsockname()[1]}"
    once = RetryPolicy(attempts=1)
    vendor_side = Client(nowhere, ingest_url=http_api, retry=once)
    with pytest.raises(NotFoundError):  # the platform's own answer: no such connection
        vendor_side.receive_vendor_delivery("conn-000000000000", {"hello": "world"})
    with pytest.raises(TransportError):
        vendor_side.list_event_types()
    management_side = Client(http_api, ingest_url=nowhere, retry=once)
    assert management_side.list_event_types()["items"]
    with pytest.raises(TransportError):
        management_side.ingest_delivery("conn-000000000000", {"hello": "world"})
