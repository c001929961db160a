"""The deployable artefact: ``chalice package`` merged with ``infra/template.json``.

The current app is packaged once per session exactly as ``make package`` does it,
so an SQS handler added to ``app.py`` without its ``ReportBatchItemFailures`` merge
entry, a merge entry left behind for a removed handler, or a policy that drifts
from the resource names all fail here rather than at deploy time.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import lint

from chalicelib.core.config import ALL_QUEUES, ALL_TABLES
from infra.package import build
from tests.infra.conftest import JWT_PARAMETERS, MERGE_TEMPLATE, ROOT, STAGE, Package, chalice_package

CHALICE_CONFIG = ROOT / ".chalice" / "config.json"
# Tables whose partition key is not tenantId start their key with "<tenantId>#" (docs/decisions.md).
TENANT_PREFIXED_KEYS = {"attempts": "subscriptionKey", "rate-limits": "bucket", "stats": "seriesKey"}
RETAINED_TABLES = {"runs", "events", "attempts", "rate-limits", "idempotency", "stats"}


@pytest.fixture(scope="session")
def merge_template() -> dict[str, Any]:
    template: dict[str, Any] = json.loads(MERGE_TEMPLATE.read_text())
    return template


@pytest.fixture(scope="session")
def chalice_config() -> dict[str, Any]:
    config: dict[str, Any] = json.loads(CHALICE_CONFIG.read_text())
    return config


def named(template: dict[str, Any], resource_type: str, name: str) -> tuple[str, dict[str, Any]]:
    """The resource whose name is ``${ResourcePrefix}-<name>``, as config.table_name/queue_name derive it."""
    name_property = "TableName" if resource_type == "AWS::DynamoDB::Table" else "QueueName"
    for logical_id, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        if resource.get("Type") == resource_type and properties[name_property] == {
            "Fn::Sub": f"${{ResourcePrefix}}-{name}"
        }:
            return logical_id, resource
    raise AssertionError(f"no {resource_type} named ${{ResourcePrefix}}-{name}")


def test_package_is_one_json_template_and_a_deployment_zip(package: Package) -> None:
    assert sorted(p.name for p in package.directory.iterdir()) == ["deployment.zip", "sam.json"]
    assert package.template["Transform"] == "AWS::Serverless-2016-10-31"
    with zipfile.ZipFile(package.directory / "deployment.zip") as archive:
        names = set(archive.namelist())
    assert {"app.py", "chalicelib/core/config.py"} <= names
    assert any(name.startswith("pydantic_core/") for name in names)


def test_cfn_lint_reports_no_errors_or_warnings(package: Package) -> None:
    matches = lint(package.text, config={"regions": ["us-east-1"]})
    # Warnings too: `make package` runs cfn-lint, which exits non-zero on a warning.
    errors = [f"{m.rule.id} line {m.linenumber}: {m.message}" for m in matches if m.rule.id.startswith(("E", "W"))]
    assert errors == []


def test_every_resource_is_complete(package: Package) -> None:
    """A merge entry for a function Chalice no longer generates would be a resource without a Type."""
    assert [name for name, r in package.template["Resources"].items() if "Type" not in r] == []


def test_every_sqs_event_reports_batch_item_failures(package: Package, merge_template: dict[str, Any]) -> None:
    """Each event also reads one of our queues, created first (the mapping fails on a missing queue)."""
    prefix = merge_template["Parameters"]["ResourcePrefix"]["Default"]
    visibility = merge_template["Parameters"]["QueueVisibilityTimeout"]["Default"]
    queues = {
        resource["Properties"]["QueueName"]["Fn::Sub"].replace("${ResourcePrefix}", prefix): (logical_id, resource)
        for logical_id, resource in merge_template["Resources"].items()
        if resource.get("Type") == "AWS::SQS::Queue"
    }
    for function_id, function in package.resources("AWS::Serverless::Function").items():
        for event_id, event in function["Properties"].get("Events", {}).items():
            if event["Type"] != "SQS":
                continue
            where = f"Resources.{function_id}.Properties.Events.{event_id}"
            assert event["Properties"].get("FunctionResponseTypes") == ["ReportBatchItemFailures"], where
            queue_name = event["Properties"]["Queue"]["Fn::Sub"].rsplit(":", 1)[1]
            assert queue_name in queues, f"{where} reads {queue_name}, which infra/template.json does not declare"
            queue_id, queue = queues[queue_name]
            assert queue_id in function.get("DependsOn", []), f"Resources.{function_id}.DependsOn lacks {queue_id}"
            assert queue["Properties"]["VisibilityTimeout"] == {"Ref": "QueueVisibilityTimeout"}, queue_id
            assert visibility >= 6 * function["Properties"]["Timeout"], function_id


def test_merge_entry_recipe_reaches_the_event_chalice_generates(tmp_path: Path) -> None:
    """The naming rule docs/deploy.md gives: function ``consume`` -> ``Consume`` / ``ConsumeSqsEventSource``."""
    (tmp_path / ".chalice").mkdir()
    (tmp_path / ".chalice" / "config.json").write_text(
        json.dumps({"version": "2.0", "app_name": "recipe", "stages": {STAGE: {}}})
    )
    (tmp_path / "app.py").write_text(
        "from chalice import Chalice\n\napp = Chalice(app_name='recipe')\n\n\n"
        "@app.on_sqs_message(queue='recipe-work', batch_size=10)\ndef consume(event):\n    return None\n"
    )
    partial_batch = {"Properties": {"FunctionResponseTypes": ["ReportBatchItemFailures"]}}
    entry = {"Consume": {"Properties": {"Events": {"ConsumeSqsEventSource": partial_batch}}}}
    (tmp_path / "merge.json").write_text(json.dumps({"Resources": entry}))
    chalice_package(tmp_path, tmp_path / "out", tmp_path / "merge.json")

    event = json.loads((tmp_path / "out" / "sam.json").read_text())["Resources"]["Consume"]["Properties"]["Events"]
    properties = event["ConsumeSqsEventSource"]["Properties"]
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert properties["BatchSize"] == 10
    assert properties["Queue"] == {"Fn::Sub": "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:recipe-work"}


def test_functions_take_jwt_settings_from_parameters_and_keep_their_own(package: Package) -> None:
    """SAM merges Globals variables under each function's own; a function-level key would shadow the parameter."""
    global_variables = package.template["Globals"]["Function"]["Environment"]["Variables"]
    assert global_variables == {name: {"Ref": parameter} for name, parameter in JWT_PARAMETERS.items()}
    assert set(JWT_PARAMETERS.values()) <= set(package.template["Parameters"])
    functions = package.resources("AWS::Serverless::Function")
    assert functions
    for function_id, function in functions.items():
        own = function["Properties"]["Environment"]["Variables"]
        assert not set(own) & set(JWT_PARAMETERS), function_id
        assert own["STAGE"] == STAGE
        assert own["RESOURCE_PREFIX"] == package.template["Parameters"]["ResourcePrefix"]["Default"]
        assert own["ALLOW_INSECURE_URLS"] == "false"


def test_resource_prefix_default_is_the_prod_stage_prefix(
    merge_template: dict[str, Any], chalice_config: dict[str, Any]
) -> None:
    prod_prefix = chalice_config["stages"]["prod"]["environment_variables"]["RESOURCE_PREFIX"]
    assert merge_template["Parameters"]["ResourcePrefix"]["Default"] == prod_prefix == "integration-platform-prod"


def test_unknown_routes_and_gateway_errors_answer_in_the_error_shape(package: Package) -> None:
    responses = package.resources("AWS::Serverless::Api")["RestAPI"]["Properties"]["GatewayResponses"]
    expected = {
        "MISSING_AUTHENTICATION_TOKEN": ("404", "RESOURCE_NOT_FOUND"),
        "DEFAULT_4XX": (None, "INVALID_REQUEST"),
        "DEFAULT_5XX": (None, "INTERNAL_ERROR"),
    }
    assert set(expected) <= set(responses)
    for response_type, response in responses.items():
        assert response["ResponseParameters"]["Headers"]["Content-Type"] == "'application/json'"
        template = response["ResponseTemplates"]["application/json"]
        # What API Gateway substitutes: messageString is a quoted, escaped JSON string.
        rendered = template.replace("$context.error.messageString", json.dumps('Bad "input"')).replace(
            "$context.requestId", "c0ffee-1234"
        )
        body = json.loads(rendered)
        assert set(body) == {"error", "traceId"}, response_type
        assert set(body["error"]) == {"code", "message", "details"}, response_type
        assert body["error"]["details"] == [] and body["traceId"] == "c0ffee-1234"
        if response_type in expected:
            status, code = expected[response_type]
            assert response.get("StatusCode") == status and body["error"]["code"] == code


def test_tables_are_keyed_from_the_tenant(merge_template: dict[str, Any]) -> None:
    for table in ALL_TABLES:
        if table == "idempotency":
            continue
        _, resource = named(merge_template, "AWS::DynamoDB::Table", table)
        partition = [k["AttributeName"] for k in resource["Properties"]["KeySchema"] if k["KeyType"] == "HASH"]
        assert partition == [TENANT_PREFIXED_KEYS.get(table, "tenantId")], table


def test_retained_tables_expire_items(merge_template: dict[str, Any]) -> None:
    for table in RETAINED_TABLES:
        _, resource = named(merge_template, "AWS::DynamoDB::Table", table)
        ttl = resource["Properties"]["TimeToLiveSpecification"]
        assert ttl["Enabled"] is True and ttl["AttributeName"], table


# The one index that projects more than keys: the public ingest path finds a connection by id alone through it,
# reading the whole connection (cached; docs/performance.md, "Cost per event").
FULL_PROJECTIONS = {("connections", "byConnectionId")}


def test_indexes_project_only_what_their_queries_read(merge_template: dict[str, Any]) -> None:
    for table in ALL_TABLES:
        _, resource = named(merge_template, "AWS::DynamoDB::Table", table)
        for index in resource["Properties"].get("GlobalSecondaryIndexes", []):
            projection = index["Projection"]["ProjectionType"]
            wanted = "ALL" if (table, index["IndexName"]) in FULL_PROJECTIONS else "KEYS_ONLY"
            assert projection == wanted, (table, index["IndexName"])


def test_idempotency_table_matches_powertools_defaults(merge_template: dict[str, Any]) -> None:
    _, resource = named(merge_template, "AWS::DynamoDB::Table", "idempotency")
    assert resource["Properties"]["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert resource["Properties"]["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}


def test_every_queue_has_a_dead_letter_queue(merge_template: dict[str, Any], chalice_config: dict[str, Any]) -> None:
    visibility = merge_template["Parameters"]["QueueVisibilityTimeout"]["Default"]
    assert visibility >= 6 * chalice_config["lambda_timeout"]
    for queue in ALL_QUEUES:
        _, resource = named(merge_template, "AWS::SQS::Queue", queue)
        fifo = queue.endswith(".fifo")  # a FIFO queue's DLQ is FIFO too, named <queue>-dlq.fifo
        dlq_id, dlq = named(merge_template, "AWS::SQS::Queue", queue.removesuffix(".fifo") + "-dlq" + ".fifo" * fifo)
        assert resource["Properties"].get("FifoQueue", False) is fifo is dlq["Properties"].get("FifoQueue", False)
        redrive = resource["Properties"]["RedrivePolicy"]
        assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": [dlq_id, "Arn"]}, queue
        # Every held retry of an ordered delivery is a receive: its queue allows many more.
        assert redrive["maxReceiveCount"] == {"Ref": "OrderedMaxReceiveCount" if fifo else "MaxReceiveCount"}
        assert resource["Properties"]["VisibilityTimeout"] == {"Ref": "QueueVisibilityTimeout"}
        assert dlq["Properties"]["MessageRetentionPeriod"] >= resource["Properties"]["MessageRetentionPeriod"]


def test_roles_carry_the_hand_written_stage_policy(package: Package) -> None:
    policy = json.loads((ROOT / ".chalice" / "policy-prod.json").read_text())
    roles = package.resources("AWS::IAM::Role")
    scheduler = roles.pop("SchedulerRole")  # EventBridge Scheduler's, not a function's: it may only feed the runs queue
    [statement] = [s for p in scheduler["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]]
    assert (statement["Action"], statement["Resource"]) == ("sqs:SendMessage", {"Fn::GetAtt": ["RunsQueue", "Arn"]})
    roles.pop("DestinationWriterRole")  # assumed per tenant to write destinations (tests/infra/test_template.py)
    assert roles
    for role in roles.values():
        assert [p["PolicyDocument"] for p in role["Properties"]["Policies"]] == [policy]


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_stage_policy_grants_only_the_stage_resources(stage: str, chalice_config: dict[str, Any]) -> None:
    assert chalice_config["autogen_policy"] is False
    assert chalice_config["stages"][stage]["iam_policy_file"] == f"policy-{stage}.json"
    prefix = chalice_config["stages"][stage]["environment_variables"]["RESOURCE_PREFIX"]
    policy = json.loads((ROOT / ".chalice" / f"policy-{stage}.json").read_text())
    by_service: dict[str, set[str]] = {}
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        services = {action.split(":")[0] for action in statement["Action"]}
        assert len(services) == 1, statement["Sid"]
        by_service.setdefault(services.pop(), set()).update(resources)
        if resources == ["*"]:
            # sns:Publish to a phone number (SendSms) has no resource ARN to scope it to, nor have the
            # SES/SNS health checks' account-level reads.
            assert set(statement["Action"]) <= {"secretsmanager:ListSecrets", "xray:PutTraceSegments"} | {
                "xray:PutTelemetryRecords",
                "sns:Publish",
                "ses:GetSendQuota",
                "sns:GetSMSAttributes",
            }, statement["Sid"]
    assert by_service["dynamodb"] == {
        f"arn:aws:dynamodb:*:*:table/{prefix}-*",
        f"arn:aws:dynamodb:*:*:table/{prefix}-*/index/*",
    }
    assert by_service["sqs"] == {f"arn:aws:sqs:*:*:{prefix}-*"}
    assert by_service["secretsmanager"] == {f"arn:aws:secretsmanager:*:*:secret:{prefix}/*", "*"}
    assert "logs" in by_service and "xray" in by_service
    assert by_service["ses"] == {"arn:aws:ses:*:*:identity/*", "arn:aws:ses:*:*:configuration-set/*", "*"}
    assert by_service["scheduler"] == {f"arn:aws:scheduler:*:*:schedule/default/{prefix}-*"}
    assert by_service["iam"] == {f"arn:aws:iam::*:role/{prefix}-scheduler"}  # PassRole to Scheduler only
    # PostToConnection and DeleteConnection on the live WebSocket API's stage (its id is only known once deployed).
    assert by_service["execute-api"] == {"arn:aws:execute-api:*:*:*/api/*/@connections/*"}


def test_every_function_is_traced_actively(package: Package) -> None:
    """X-Ray on (``xray`` in .chalice/config.json): Lambda writes each invocation's segment, no SDK needed."""
    functions = package.resources("AWS::Serverless::Function")
    assert functions
    assert {name: f["Properties"].get("Tracing") for name, f in functions.items()} == dict.fromkeys(functions, "Active")


def test_alarms_cover_dead_letters_dispatch_api_throttles_and_rotation(package: Package) -> None:
    """Every alarm notifies the alarms topic; every dead-letter queue has one (docs/observability.md 'Alarms')."""
    resources = package.template["Resources"]
    alarms = package.resources("AWS::CloudWatch::Alarm")
    assert all(a["Properties"]["AlarmActions"] == [{"Ref": "AlarmsTopic"}] for a in alarms.values())
    dead_letter_queues = {
        name for name, r in resources.items() if r["Type"] == "AWS::SQS::Queue" and name.endswith("DeadLetterQueue")
    }
    watched = {
        a["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
        for a in alarms.values()
        if a["Properties"].get("Namespace") == "AWS/SQS"
    }
    assert watched == dead_letter_queues
    for name in ("DispatchFailureRateAlarm", "Api5xxRateAlarm", "LambdaThrottlesAlarm", "RotationFailedAlarm"):
        assert name in alarms
    assert resources["AlarmsEmailSubscription"]["Condition"] == "HasAlarmEmail"
    dashboard = json.dumps(resources["OperationsDashboard"]["Properties"]["DashboardBody"])
    assert all(f"${{{name}.Arn}}" in dashboard for name in alarms)


def test_the_live_websocket_api_and_its_pushers(package: Package) -> None:
    """Chalice generates the WebSocket API; the functions that post frames know its management endpoint."""
    apis = package.resources("AWS::ApiGatewayV2::Api")
    [api_id] = [name for name, api in apis.items() if api["Properties"]["ProtocolType"] == "WEBSOCKET"]
    routes = {
        r["Properties"]["RouteKey"]
        for r in package.resources("AWS::ApiGatewayV2::Route").values()
        if r["Properties"]["ApiId"] == {"Ref": api_id}
    }
    assert routes == {"$connect", "$default", "$disconnect"}
    functions = package.resources("AWS::Serverless::Function")
    for name in ("EventsStream", "OutboundDispatch", "OutboundOrdered", "WebsocketMessage"):
        variable = functions[name]["Properties"]["Environment"]["Variables"]["LIVE_ENDPOINT_URL"]
        assert variable == {"Fn::Sub": "https://${WebsocketAPI}.execute-api.${AWS::Region}.amazonaws.com/api"}
    table = package.resources("AWS::DynamoDB::Table")["LiveConnectionsTable"]["Properties"]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}


def test_an_http_api_route_the_app_does_not_declare_fails_the_package() -> None:
    """``build.rest_only`` moves routes; one the REST API lacks is a typo in the merge template, not a move."""
    route = {"ApiId": {"Ref": "Ingest"}, "RouteKey": "POST /webhooks/typo"}
    template = {
        "Resources": {
            "Ingest": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {"ProtocolType": "HTTP"}},
            "Route": {"Type": "AWS::ApiGatewayV2::Route", "Properties": route},
            "RestAPI": {"Type": "AWS::Serverless::Api", "Properties": {"DefinitionBody": {"paths": {"/": {}}}}},
        }
    }
    with pytest.raises(ValueError, match="POST /webhooks/typo"):
        build.rest_only(template)


def test_the_api_and_the_dispatchers_know_the_platform_bus_arn(package: Package) -> None:
    """GET /events/bus names it, and a dispatcher writes an eventbridge destination on it with its own role."""
    functions = package.resources("AWS::Serverless::Function")
    for name in ("APIHandler", "OutboundDispatch", "OutboundOrdered"):
        variable = functions[name]["Properties"]["Environment"]["Variables"]["EVENT_BUS_ARN"]
        assert variable == {"Fn::GetAtt": ["EventBus", "Arn"]}, name
    [bus] = package.resources("AWS::Events::EventBus")
    assert bus == "EventBus"
