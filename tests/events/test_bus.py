"""``GET /events/bus``: the platform's EventBridge bus, named for an ``eventbridge`` destination.

The ARN it answers is the one the embedded AWS gives the bus (or the template sets), so a
destination created from it names the real bus; the route needs ``events.read`` like ``GET /events``.
"""

from __future__ import annotations

import pytest

from chalicelib.core import aws
from chalicelib.core.config import get_settings
from infra.local.dev_issuer import DevIssuer
from tests.support.api_client import ApiClient


def test_the_bus_route_names_the_platform_bus_as_eventbridge_knows_it(client: ApiClient) -> None:
    reply = client.get("/events/bus")
    assert reply.status == 200, reply.body
    name = get_settings().event_bus_name
    described = aws.events().describe_event_bus(Name=name)
    assert reply.json == {
        "eventBusArn": described["Arn"],
        "eventBusName": name,
        "region": get_settings().region,
        "source": "integration-platform",
    }


def test_the_bus_route_needs_the_events_read_scope(client: ApiClient, issuer: DevIssuer, tenant: str) -> None:
    assert client.get("/events/bus", token=issuer.token(tenant, ["events.read"])).status == 200
    refused = client.get("/events/bus", token=issuer.token(tenant, ["webhooks.read"]))
    assert refused.status == 403 and refused.json["error"]["code"] == "AUTHORIZATION_DENIED"
    assert client.get("/events/bus", token="").status == 401


def test_a_deployed_stage_answers_the_arn_the_template_gives(
    client: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    arn = "arn:aws:events:us-east-1:210987654321:event-bus/integration-platform-prod-events"
    monkeypatch.setenv("EVENT_BUS_ARN", arn)
    assert client.get("/events/bus").json["eventBusArn"] == arn
