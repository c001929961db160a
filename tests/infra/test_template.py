"""The packaged template after the SAM transform: what CloudFormation actually creates.

cfn-lint and ``tests/infra/test_package.py`` read the SAM template; these tests
read the resources the transform makes of it (``infra.package.translate``): the
event source mappings Lambda polls with, the API's integration, stage and
permission, the schedules' rules, the streams. Each function's event sources
are compared with the handlers ``app.py`` declares, so a setting lost between
Chalice, the merge template and the transform fails here, not in an account.
"""

from __future__ import annotations

import json
import os
from typing import Any

from chalice.app import DynamoDBEventConfig, ScheduledEventConfig, SQSEventConfig

from app import app
from chalicelib.api.routing import OPERATIONS
from tests.infra.conftest import Package

DAYS = 24 * 3600
PROD_PREFIX = "integration-platform-prod"
INVOKE_API_HANDLER = (
    "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${APIHandler.Arn}/invocations"
)
PARTIAL_BATCHES = ["ReportBatchItemFailures"]


def of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {name: r["Properties"] for name, r in template["Resources"].items() if r["Type"] == resource_type}


def function_of(template: dict[str, Any], reference: dict[str, Any]) -> str:
    """The handler (``app.<name>``) of the function a mapping, rule or permission names."""
    logical_id = reference["Ref"] if "Ref" in reference else reference["Fn::GetAtt"][0]
    handler: str = template["Resources"][logical_id]["Properties"]["Handler"]
    return handler


def queue_named(template: dict[str, Any], arn: dict[str, Any]) -> dict[str, Any]:
    name = arn["Fn::Sub"].rsplit(":", 1)[1]
    prefix = template["Parameters"]["ResourcePrefix"]["Default"]
    [queue] = [q for q in of_type(template, "AWS::SQS::Queue").values() if q["QueueName"] == {"Fn::Sub": name}] or [
        q
        for q in of_type(template, "AWS::SQS::Queue").values()
        if q["QueueName"]["Fn::Sub"].replace("${ResourcePrefix}", prefix) == name
    ]
    return queue


def mappings(translated: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each event source mapping by the handler it invokes (one mapping per handler)."""
    found = of_type(translated, "AWS::Lambda::EventSourceMapping").values()
    by_handler = {function_of(translated, m["FunctionName"]): m for m in found}
    assert len(by_handler) == len(found)
    return by_handler


def test_every_queue_handler_polls_its_queue_with_its_batch_settings(translated: dict[str, Any]) -> None:
    by_handler = mappings(translated)
    sources = [source for source in app.event_sources if isinstance(source, SQSEventConfig)]
    assert sources
    for source in sources:
        mapping = by_handler[source.handler_string]
        # The app was imported under the tests' prefix; the template names the prod stage's.
        queue = str(source.queue).removeprefix(os.environ["RESOURCE_PREFIX"])
        assert mapping["EventSourceArn"]["Fn::Sub"].endswith(f":{PROD_PREFIX}{queue}"), source.name
        assert mapping["BatchSize"] == source.batch_size, source.name
        assert mapping["MaximumBatchingWindowInSeconds"] == source.maximum_batching_window_in_seconds
        assert mapping["FunctionResponseTypes"] == PARTIAL_BATCHES, source.name
        fifo = queue.endswith(".fifo")
        # Lambda's limits: a FIFO queue's batch is at most 10; over 10 a standard queue needs a batching window.
        assert mapping["BatchSize"] <= (10 if fifo else 10_000), source.name
        assert mapping["BatchSize"] <= 10 or mapping["MaximumBatchingWindowInSeconds"] >= 1, source.name


def test_every_queue_read_has_a_failure_destination(translated: dict[str, Any]) -> None:
    """A queue's messages that keep failing move to its DLQ; a DLQ's own reader keeps them its 14 days."""
    queues = of_type(translated, "AWS::SQS::Queue")
    for mapping in mappings(translated).values():
        if "Fn::Sub" not in mapping["EventSourceArn"]:
            continue
        queue = queue_named(translated, mapping["EventSourceArn"])
        redrive = queue.get("RedrivePolicy")
        if redrive is None:
            assert queue["QueueName"]["Fn::Sub"].removesuffix(".fifo").endswith("-dlq"), queue["QueueName"]
            assert queue["MessageRetentionPeriod"] == 14 * DAYS
        else:
            [dlq_id] = redrive["deadLetterTargetArn"]["Fn::GetAtt"][:1]
            assert dlq_id in queues and "RedrivePolicy" not in queues[dlq_id], queue["QueueName"]


def test_every_stream_handler_reads_its_table_stream_in_order(translated: dict[str, Any]) -> None:
    by_handler = mappings(translated)
    tables = of_type(translated, "AWS::DynamoDB::Table")
    sources = [source for source in app.event_sources if isinstance(source, DynamoDBEventConfig)]
    assert sources
    streamed = {name for name, table in tables.items() if "StreamSpecification" in table}
    read = set()
    for source in sources:
        mapping = by_handler[source.handler_string]
        table_id, attribute = mapping["EventSourceArn"]["Fn::GetAtt"]
        assert attribute == "StreamArn" and table_id in streamed, source.name
        read.add(table_id)
        assert tables[table_id]["StreamSpecification"]["StreamViewType"] in {"NEW_IMAGE", "NEW_AND_OLD_IMAGES"}
        assert (mapping["BatchSize"], mapping["StartingPosition"]) == (source.batch_size, source.starting_position)
        assert mapping["FunctionResponseTypes"] == PARTIAL_BATCHES, source.name
        # Stream semantics: one batch per shard at a time, split to find the failing record, never skipped.
        assert mapping.get("ParallelizationFactor", 1) == 1, source.name
        assert mapping["BisectBatchOnFunctionError"] is True, source.name
    assert read == streamed  # no stream is written without a reader


def test_every_stream_mapping_has_a_failure_destination(translated: dict[str, Any]) -> None:
    resources = translated["Resources"]
    for mapping in mappings(translated).values():
        if "Fn::GetAtt" not in mapping["EventSourceArn"]:
            continue
        destination = mapping["DestinationConfig"]["OnFailure"]["Destination"]
        target_id = destination["Fn::GetAtt"][0] if "Fn::GetAtt" in destination else destination["Ref"]
        assert resources[target_id]["Type"] in {"AWS::SQS::Queue", "AWS::SNS::Topic"}


def test_no_mapping_without_a_handler_and_no_handler_without_its_source(translated: dict[str, Any]) -> None:
    polled = {s.handler_string for s in app.event_sources if isinstance(s, SQSEventConfig | DynamoDBEventConfig)}
    assert set(mappings(translated)) == polled


def test_every_schedule_invokes_its_handler_and_only_its_rule_may(translated: dict[str, Any]) -> None:
    rules = of_type(translated, "AWS::Events::Rule")
    permissions = of_type(translated, "AWS::Lambda::Permission").values()
    schedules = [source for source in app.event_sources if isinstance(source, ScheduledEventConfig)]
    assert schedules
    for source in schedules:
        handler = source.handler_string
        [(rule_id, rule)] = [
            (rule_id, rule)
            for rule_id, rule in rules.items()
            if "ScheduleExpression" in rule and function_of(translated, rule["Targets"][0]["Arn"]) == handler
        ]
        expression = source.schedule_expression
        assert rule["ScheduleExpression"] == (expression if isinstance(expression, str) else expression.to_string())
        assert len(rule["Targets"]) == 1
        [permission] = [p for p in permissions if p.get("SourceArn") == {"Fn::GetAtt": [rule_id, "Arn"]}]
        assert permission["Principal"] == "events.amazonaws.com"
        assert function_of(translated, permission["FunctionName"]) == handler


def test_the_api_sends_every_route_to_the_api_handler_on_its_stage(
    translated: dict[str, Any], package: Package
) -> None:
    [(api_id, api)] = of_type(translated, "AWS::ApiGateway::RestApi").items()
    integrations = [
        operation["x-amazon-apigateway-integration"]
        for path in api["Body"]["paths"].values()
        for operation in path.values()
        if isinstance(operation, dict) and "x-amazon-apigateway-integration" in operation
    ]
    assert len(integrations) >= len(app.routes)
    invoke = (
        "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${APIHandler.Arn}/invocations"
    )
    assert {(i["type"], i["httpMethod"], i["uri"]["Fn::Sub"]) for i in integrations} == {("aws_proxy", "POST", invoke)}
    # Gateway responses are part of the API definition, so every deployment carries them (docs/deploy.md).
    assert set(api["Body"]["x-amazon-apigateway-gateway-responses"]) >= {"DEFAULT_4XX", "DEFAULT_5XX"}
    [stage] = of_type(translated, "AWS::ApiGateway::Stage").values()
    [deployment_id] = of_type(translated, "AWS::ApiGateway::Deployment")
    deployed = {"DeploymentId": {"Ref": deployment_id}, "RestApiId": {"Ref": api_id}, "StageName": "api"}
    assert stage == deployed | {"TracingEnabled": True}  # X-Ray from the gateway on, as in every function
    # The REST API's one permission (the WebSocket API's routes have their own, tests/infra/test_package.py).
    permissions = of_type(translated, "AWS::Lambda::Permission").values()
    [permission] = [p for p in permissions if "execute-api" in str(p) and "RestAPIId" in str(p)]
    assert permission["Principal"] == "apigateway.amazonaws.com"
    assert permission["SourceArn"]["Fn::Sub"][1] == {"RestAPIId": {"Ref": api_id}}
    assert function_of(translated, permission["FunctionName"]) == "app.app"
    assert package.template["Outputs"]["EndpointURL"] == translated["Outputs"]["EndpointURL"]


def test_the_vendor_routes_are_served_by_the_ingest_http_api_and_nowhere_else(translated: dict[str, Any]) -> None:
    """Two fronts (docs/deploy.md): the ingest routes on an HTTP API, every other route on REST, none on both."""
    # The vendor-facing operations as the code declares them (signature-authenticated): the two ingest POSTs.
    vendor_routes = {(op.method, op.path) for op in OPERATIONS if op.vendor_facing}
    assert vendor_routes == {("POST", "/webhooks/deliveries"), ("POST", "/webhooks/deliveries/{id}")}
    http_apis = {n: a for n, a in of_type(translated, "AWS::ApiGatewayV2::Api").items() if a["ProtocolType"] == "HTTP"}
    [(api_id, api)] = http_apis.items()
    assert api.get("DisableExecuteApiEndpoint") is not True  # webhookUrl names that endpoint
    routes = [r for r in of_type(translated, "AWS::ApiGatewayV2::Route").values() if r["ApiId"] == {"Ref": api_id}]
    assert {tuple(r["RouteKey"].split(" ")) for r in routes} == vendor_routes
    integrations = of_type(translated, "AWS::ApiGatewayV2::Integration").items()
    [(integration_id, integration)] = [(n, i) for n, i in integrations if i["ApiId"] == {"Ref": api_id}]
    assert {r["Target"]["Fn::Sub"] for r in routes} == {f"integrations/${{{integration_id}}}"}
    assert all(r["AuthorizationType"] == "NONE" for r in routes)  # the signature authenticates, in the function
    # Payload format 1.0 is the REST proxy event Chalice's handler reads (tests/inbound/test_http_api_front.py).
    assert (integration["IntegrationType"], integration["PayloadFormatVersion"]) == ("AWS_PROXY", "1.0")
    assert integration["IntegrationUri"]["Fn::Sub"] == INVOKE_API_HANDLER
    [api_function] = [f for f in of_type(translated, "AWS::Lambda::Function").values() if f["Handler"] == "app.app"]
    assert integration["TimeoutInMillis"] < api_function["Timeout"] * 1000

    rest_paths = of_type(translated, "AWS::ApiGateway::RestApi")["RestAPI"]["Body"]["paths"]
    on_rest = {(method.upper(), path) for path, item in rest_paths.items() for method in item}
    assert not on_rest & vendor_routes
    declared = {(method, path) for path, entries in app.routes.items() for method in entries}
    assert on_rest | vendor_routes == declared  # every route has exactly one front

    [stage] = [s for s in of_type(translated, "AWS::ApiGatewayV2::Stage").values() if s["ApiId"] == {"Ref": api_id}]
    assert (stage["StageName"], stage["AutoDeploy"]) == ("$default", True)
    throttle = stage["DefaultRouteSettings"]
    assert throttle["ThrottlingRateLimit"] == {"Ref": "IngestThrottleRate"}
    assert throttle["ThrottlingBurstLimit"] == {"Ref": "IngestThrottleBurst"}
    [log_group_id, _] = stage["AccessLogSettings"]["DestinationArn"]["Fn::GetAtt"]
    assert translated["Resources"][log_group_id]["Type"] == "AWS::Logs::LogGroup"
    assert "$context.requestId" in stage["AccessLogSettings"]["Format"]

    permissions = of_type(translated, "AWS::Lambda::Permission").values()
    [permission] = [p for p in permissions if f"${{{api_id}}}" in str(p.get("SourceArn"))]
    assert permission["Principal"] == "apigateway.amazonaws.com" and permission["Action"] == "lambda:InvokeFunction"
    assert function_of(translated, permission["FunctionName"]) == "app.app"
    assert permission["SourceArn"]["Fn::Sub"].endswith(f":${{{api_id}}}/*")


def test_the_dashboard_graphs_both_fronts(translated: dict[str, Any]) -> None:
    """Requests, 4xx, 5xx and latency of the management REST API (metrics by ``ApiName``) and of the ingest HTTP API
    (by ``ApiId`` and stage, with HTTP API's metric names ``4xx``/``5xx``); the widgets do not overlap."""
    [dashboard] = of_type(translated, "AWS::CloudWatch::Dashboard").values()
    widgets = json.loads(dashboard["DashboardBody"]["Fn::Sub"])["widgets"]
    graphed = {
        (metric[1], *metric[2:-1], metric[-1]["stat"])
        for widget in widgets
        for metric in widget["properties"].get("metrics", [])
        if metric[0] == "AWS/ApiGateway"
    }
    rest = ("ApiName", "${AWS::StackName}", "Stage", "api")
    [api_id] = [n for n, a in of_type(translated, "AWS::ApiGatewayV2::Api").items() if a["ProtocolType"] == "HTTP"]
    stages = of_type(translated, "AWS::ApiGatewayV2::Stage").values()
    [stage] = [s["StageName"] for s in stages if s["ApiId"] == {"Ref": api_id}]
    ingest = ("ApiId", f"${{{api_id}}}", "Stage", stage)
    assert graphed == {
        *{(name, *rest, "Sum") for name in ("Count", "4XXError", "5XXError")},
        *{("Latency", *rest, stat) for stat in ("p50", "p95")},
        *{(name, *ingest, "Sum") for name in ("Count", "4xx", "5xx")},
        *{("Latency", *ingest, stat) for stat in ("p50", "p95")},
    }
    cells = [(w["x"] + dx, w["y"] + dy) for w in widgets for dx in range(w["width"]) for dy in range(w["height"])]
    assert len(cells) == len(set(cells))


def test_webhook_urls_name_the_ingest_api_wherever_they_are_made(translated: dict[str, Any]) -> None:
    """The API function (connections, Twilio's check) and the runs worker (Twilio's StatusCallback)."""
    address = {"Fn::If": ["HasIngestBaseUrl", {"Ref": "IngestBaseUrl"}, {"Fn::GetAtt": ["IngestApi", "ApiEndpoint"]}]}
    functions = {f["Handler"]: f for f in of_type(translated, "AWS::Lambda::Function").values()}
    for handler in ("app.app", "app.run_operations"):
        assert functions[handler]["Environment"]["Variables"]["INGEST_BASE_URL"] == address, handler
    assert translated["Outputs"]["IngestURL"]["Value"] == address


def test_every_function_runs_the_packaged_code_as_its_own_role(translated: dict[str, Any]) -> None:
    functions = of_type(translated, "AWS::Lambda::Function")
    roles = of_type(translated, "AWS::IAM::Role")
    for function_id, function in functions.items():
        assert function["Code"] == {"S3Bucket": "artifact-bucket", "S3Key": "deployment.zip"}, function_id
        assert function["Runtime"] == "python3.11" and function["TracingConfig"] == {"Mode": "Active"}
        role_id, _ = function["Role"]["Fn::GetAtt"]
        assert role_id in roles, function_id


def test_the_destination_writer_role_is_assumed_only_by_the_functions_that_write_or_check_destinations(
    translated: dict[str, Any],
) -> None:
    """Tenants' resource policies grant this role for sessions tagged with their tenant; the dispatchers write
    under it and the API checks access under it, each told its ARN. No other function may assume it, and a
    session without the ``tenantId`` tag (or with other tags) is refused by the trust policy itself."""
    resources = translated["Resources"]
    role = resources["DestinationWriterRole"]["Properties"]
    users = {"OutboundDispatchRole", "OutboundOrderedRole", "ApiHandlerRole"}
    assume, tag = role["AssumeRolePolicyDocument"]["Statement"]
    for statement in (assume, tag):
        assert {arn["Fn::GetAtt"][0] for arn in statement["Principal"]["AWS"]} == users
    assert (assume["Action"], tag["Action"]) == ("sts:AssumeRole", "sts:TagSession")
    assert tag["Condition"] == {
        "StringLike": {"aws:RequestTag/tenantId": "?*"},
        "ForAllValues:StringEquals": {"aws:TagKeys": ["tenantId"]},
    }
    [policy] = role["Policies"]
    granted = {action for s in policy["PolicyDocument"]["Statement"] for action in s["Action"]}
    writes = {"sqs:SendMessage", "sns:Publish", "events:PutEvents", "kinesis:PutRecord"}
    assert writes <= granted and not any(a.endswith("*") for a in granted)
    [grant] = of_type(translated, "AWS::IAM::Policy").values()
    assert {r["Ref"] for r in grant["Roles"]} == users
    [statement] = grant["PolicyDocument"]["Statement"]
    assert statement["Resource"] == {"Fn::GetAtt": ["DestinationWriterRole", "Arn"]}
    functions = of_type(translated, "AWS::Lambda::Function")
    told = {
        function["Role"]["Fn::GetAtt"][0]
        for function in functions.values()
        if "DESTINATION_ROLE_ARN" in function.get("Environment", {}).get("Variables", {})
    }
    assert told == users
