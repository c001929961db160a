"""Where ``Client.from_env`` (and so ``ipctl``) finds the platform and the credentials."""

from __future__ import annotations

from integration_platform import Client


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
