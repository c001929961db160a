"""``bench.stack`` reads the front and the memory the bill depends on from the template and the config."""

from __future__ import annotations

from typing import Any

import pytest

from bench import environment, stack


def test_the_ingest_front_is_rest_until_an_http_api_routes_the_deliveries() -> None:
    rest_only = {"Resources": {"RestAPI": {"Type": "AWS::Serverless::Api", "Properties": {}}}}
    assert stack.ingest_front(rest_only) == "rest"
    other_route = {
        "Resources": {
            "Live": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {"ProtocolType": "WEBSOCKET"}},
            "Health": {"Type": "AWS::ApiGatewayV2::Route", "Properties": {"RouteKey": "GET /health"}},
        }
    }
    assert stack.ingest_front(other_route) == "rest"


@pytest.mark.parametrize(
    "resource",
    [
        {"Type": "AWS::ApiGatewayV2::Route", "Properties": {"RouteKey": "POST /webhooks/deliveries/{connectionId}"}},
        {
            "Type": "AWS::Serverless::Function",
            "Properties": {"Events": {"Ingest": {"Type": "HttpApi", "Properties": {"Path": "/webhooks/deliveries"}}}},
        },
        {"Type": "AWS::Serverless::HttpApi", "Properties": {"DefinitionBody": {"paths": {"/webhooks/deliveries": {}}}}},
    ],
)
def test_an_http_api_that_routes_the_deliveries_is_the_ingest_front(resource: dict[str, Any]) -> None:
    assert stack.ingest_front({"Resources": {"Ingest": resource}}) == "http"


def test_memory_follows_chalice_lookup_and_the_template() -> None:
    config = environment.config()
    expected = config["stages"]["prod"].get("lambda_memory_size", config["lambda_memory_size"])
    assert stack.memory_mb("outbound_dispatch") == expected
    assert stack.logical_id("events_stream") == "EventsStream"
    assert stack.logical_id("api_handler") == "APIHandler"


def test_the_prod_stage_sets_the_rate_limits() -> None:
    variables = environment.stage_variables("prod")
    assert int(variables["RATE_LIMIT_INBOUND_PER_MINUTE"]) > 0
    assert variables["STAGE"] == "prod"
