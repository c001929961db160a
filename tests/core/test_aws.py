"""The one client factory: one client per service and endpoint, made once per process."""

from __future__ import annotations

import pytest

from chalicelib.core import aws


def test_a_service_client_is_made_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    assert aws.sqs() is aws.sqs()


def test_the_live_client_follows_its_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two live APIs in one process (two test servers on one worker) each get their own client: with one client per
    service, the second one's frames went to the first one's address and were lost."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("LIVE_ENDPOINT_URL", "http://127.0.0.1:9")
    first = aws.live_connections()
    monkeypatch.setenv("LIVE_ENDPOINT_URL", "http://127.0.0.1:10")
    second = aws.live_connections()
    assert (first.meta.endpoint_url, second.meta.endpoint_url) == ("http://127.0.0.1:9", "http://127.0.0.1:10")
    assert aws.live_connections() is second
