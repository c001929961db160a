"""Where a connection's ``webhookUrl`` points: the ingest HTTP API when deployed, the one local server on ``$PORT``.

A deployed stage's functions get ``INGEST_BASE_URL`` from the template (the ingest
API's endpoint, tests/infra/test_template.py) beside ``PUBLIC_BASE_URL`` (the
management API); locally neither is set for ingest and both fronts are one server.
"""

from __future__ import annotations

import pytest

from chalicelib.adapters import twilio_sms
from chalicelib.adapters.base import ExecutionContext
from chalicelib.core.config import get_settings
from tests.connections.test_read import CONNECTIONS, establish
from tests.core.env import settings_env
from tests.support.api_client import ApiClient
from tests.support.run_driver import settings

INGEST = "https://abc123.execute-api.us-east-1.amazonaws.com"
MANAGEMENT = "https://def456.execute-api.us-east-1.amazonaws.com/api"


def test_a_deployed_stage_gives_vendors_the_ingest_api(client: ApiClient) -> None:
    with settings(INGEST_BASE_URL=INGEST + "/", PUBLIC_BASE_URL=MANAGEMENT):
        connection_id = establish(client)
        expected = f"{INGEST}/webhooks/deliveries/{connection_id}"
        read = client.get(f"{CONNECTIONS}/{connection_id}").json
        listed = [c for c in client.get(CONNECTIONS).json["items"] if c["connectionId"] == connection_id]
        assert read["webhookUrl"] == expected and [c["webhookUrl"] for c in listed] == [expected]


def test_twilio_status_callbacks_name_the_ingest_api() -> None:
    context = ExecutionContext(
        base_url="https://api.twilio.com", configuration={"accountSid": "AC1"}, run_id="run-1", connection_id="conn-1"
    )
    with settings(INGEST_BASE_URL=INGEST, PUBLIC_BASE_URL=MANAGEMENT):
        request = twilio_sms.ADAPTER.operation("SendSms").request({"to": "+1", "from": "+2", "body": "x"}, context)
    assert request.form["StatusCallback"] == f"{INGEST}/webhooks/deliveries/conn-1?runId=run-1"


def test_locally_both_fronts_are_the_server_on_port(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PUBLIC_BASE_URL", "INGEST_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    with settings_env(monkeypatch, STAGE="local", PORT="8123"):
        assert get_settings().ingest_base_url == get_settings().public_base_url == "http://127.0.0.1:8123"
