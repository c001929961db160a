"""Each adapter operation against the fake vendor: the request it sends and the result it returns."""

from __future__ import annotations

import base64

import pytest

from chalicelib.adapters import generic_http, github, jira, slack, twilio_sms
from chalicelib.adapters.auth import Credential
from chalicelib.adapters.base import ExecutionContext
from chalicelib.adapters.errors import VendorRejected
from chalicelib.adapters.registry import adapter_for, adapters
from chalicelib.core.errors import OperationNotFound, ParameterValidationFailed
from chalicelib.providers.catalog import BUILTIN_PROVIDERS
from chalicelib.providers.models import AuthModel, Category, Provider
from tests.support.fake_vendor import FakeVendor

BEARER = Credential(AuthModel.BEARER_TOKEN, {"token": "ghp_faketoken1234567890"})
PR = {"owner": "octo", "repo": "hello", "title": "Add feature", "head": "feature", "base": "main", "body": "Why."}


def context(vendor: FakeVendor, **overrides: object) -> ExecutionContext:
    return ExecutionContext(base_url=vendor.url, run_id="run-0123456789abcdef", timeout=5.0, **overrides)  # type: ignore[arg-type]


def test_github_open_pull_request_calls_the_rest_api_with_githubs_headers(vendor: FakeVendor) -> None:
    vendor.expect_bearer("ghp_faketoken1234567890")
    result = github.ADAPTER.execute("OpenPullRequest", PR, BEARER, context(vendor))
    assert result["number"] == 1 and result["state"] == "open"
    sent = vendor.requests[-1]
    assert (sent.method, sent.path) == ("POST", "/repos/octo/hello/pulls")
    assert sent.json() == {"title": "Add feature", "head": "feature", "base": "main", "body": "Why."}
    assert sent.headers["accept"] == "application/vnd.github+json"
    assert sent.headers["x-github-api-version"] == "2022-11-28"
    assert sent.headers["authorization"] == "Bearer ghp_faketoken1234567890"


def test_github_duplicate_pull_request_is_rejected_first_time_and_recovered_on_a_retry(vendor: FakeVendor) -> None:
    vendor.expect_bearer("ghp_faketoken1234567890")
    first = github.ADAPTER.execute("OpenPullRequest", PR, BEARER, context(vendor))
    with pytest.raises(VendorRejected) as rejected:
        github.ADAPTER.execute("OpenPullRequest", PR, BEARER, context(vendor))
    assert rejected.value.vendor_status == 422 and "already exists" in rejected.value.message
    again = github.ADAPTER.execute("OpenPullRequest", PR, BEARER, context(vendor, attempt=2))
    assert again["number"] == first["number"]
    assert len(vendor.pulls) == 1


def test_github_reads_and_creates_issues(vendor: FakeVendor) -> None:
    vendor.expect_bearer("ghp_faketoken1234567890")
    repo = github.ADAPTER.execute("GetRepository", {"owner": "octo", "repo": "hello"}, BEARER, context(vendor))
    assert repo["full_name"] == "octo/hello"
    issues = github.ADAPTER.execute(
        "ListIssues", {"owner": "octo", "repo": "hello", "state": "all", "perPage": 5}, BEARER, context(vendor)
    )
    assert issues[0]["state"] == "all"
    assert vendor.requests[-1].query == {"state": "all", "per_page": "5", "page": "1"}
    created = github.ADAPTER.execute(
        "CreateIssue", {"owner": "octo", "repo": "hello", "title": "Bug", "labels": ["bug"]}, BEARER, context(vendor)
    )
    assert created["number"] == 2
    assert vendor.requests[-1].json() == {"title": "Bug", "labels": ["bug"]}


def test_slack_post_message_and_ok_false_is_a_failure(vendor: FakeVendor) -> None:
    vendor.expect_bearer("xoxb-fake")
    credential = Credential(AuthModel.BEARER_TOKEN, {"token": "xoxb-fake"})
    posted = slack.ADAPTER.execute("PostMessage", {"channel": "C1", "text": "hi"}, credential, context(vendor))
    assert posted["ok"] is True and posted["ts"]
    assert vendor.requests[-1].path == "/chat.postMessage"
    assert vendor.requests[-1].json() == {"channel": "C1", "text": "hi"}
    with pytest.raises(VendorRejected) as refused:
        slack.ADAPTER.execute("PostMessage", {"channel": "C-missing", "text": "hi"}, credential, context(vendor))
    assert refused.value.vendor_status == 200 and "channel_not_found" in refused.value.message


def test_twilio_send_sms_is_form_encoded_with_basic_auth_and_the_account_sid(vendor: FakeVendor) -> None:
    sid = "AC" + "a" * 32
    vendor.expect_basic(sid, "auth-token")
    credential = Credential(AuthModel.BASIC, {"username": sid, "password": "auth-token"})
    sent = {"to": "+15005550006", "from": "+15005550001", "body": "Your code is 1234"}
    result = twilio_sms.ADAPTER.execute("SendSms", sent, credential, context(vendor))
    assert result["status"] == "queued"
    request = vendor.requests[-1]
    assert request.path == f"/2010-04-01/Accounts/{sid}/Messages.json"
    assert request.form() == {"To": "+15005550006", "From": "+15005550001", "Body": "Your code is 1234"}
    assert request.headers["authorization"] == "Basic " + base64.b64encode(f"{sid}:auth-token".encode()).decode()


def test_jira_create_issue_sends_atlassian_document_format(vendor: FakeVendor) -> None:
    vendor.expect_basic("me@example.com", "jira-token")
    credential = Credential(AuthModel.BASIC, {"username": "me@example.com", "password": "jira-token"})
    parameters = {"projectKey": "OPS", "summary": "Disk full", "description": "line one\nline two"}
    result = jira.ADAPTER.execute("CreateIssue", parameters, credential, context(vendor))
    assert result["key"] == "OPS-1"
    fields = vendor.requests[-1].json()["fields"]
    assert fields["project"] == {"key": "OPS"} and fields["issuetype"] == {"name": "Task"}
    assert [p["content"][0]["text"] for p in fields["description"]["content"]] == ["line one", "line two"]


def test_generic_request_sends_the_run_id_as_idempotency_key(vendor: FakeVendor) -> None:
    vendor.expect_bearer("t0ken-generic")
    credential = Credential(AuthModel.BEARER_TOKEN, {"token": "t0ken-generic"})
    parameters = {
        "method": "POST",
        "path": "/charges",
        "query": {"a": "1"},
        "headers": {"X-Trace": "t"},
        "body": {"n": 1},
    }
    first = generic_http.ADAPTER.execute("Request", parameters, credential, context(vendor))
    again = generic_http.ADAPTER.execute("Request", parameters, credential, context(vendor))
    assert first == again
    assert first["status"] == 200 and first["body"]["received"] == {"n": 1} and first["body"]["query"] == {"a": "1"}
    assert vendor.requests[-1].headers["idempotency-key"] == "run-0123456789abcdef"
    assert vendor.requests[-1].headers["x-trace"] == "t"
    assert vendor.side_effects == {"run-0123456789abcdef": 1}
    text = generic_http.ADAPTER.execute("Request", {"path": "/text"}, credential, context(vendor))
    assert text["body"] == "plain words" and "idempotency-key" not in vendor.requests[-1].headers


def test_connection_base_url_wins_over_the_providers(vendor: FakeVendor) -> None:
    vendor.expect_bearer("ghp_faketoken1234567890")
    ctx = ExecutionContext(base_url="https://api.github.com", configuration={"baseUrl": vendor.url}, timeout=5.0)
    assert github.ADAPTER.execute("GetRepository", {"owner": "o", "repo": "r"}, BEARER, ctx)["name"] == "r"


def test_catalog_entries_carry_json_schemas_from_the_parameter_models() -> None:
    specs = {spec.id: spec for spec in github.ADAPTER.operations()}
    assert set(specs) == {"OpenPullRequest", "GetRepository", "ListIssues", "CreateIssue"}
    schema = specs["OpenPullRequest"].parameters
    assert schema["type"] == "object"
    assert set(schema["required"]) == {"owner", "repo", "title", "head", "base"}
    assert "body" in schema["properties"]
    assert specs["OpenPullRequest"].result_schema["properties"]["number"] == {"type": "integer"}
    assert "from" in twilio_sms.ADAPTER.operations()[0].parameters["properties"]
    assert set(adapters()) == {
        "github",
        "slack",
        "twilio-sms",
        "jira",
        "generic-http",
        "openai",
        "azure-openai",
        "ollama",
        "aws-ses",
        "aws-sns",
        "mcp",
    }


def test_parameters_are_validated_with_field_details() -> None:
    with pytest.raises(ParameterValidationFailed) as invalid:
        github.ADAPTER.operation("OpenPullRequest").validate({"owner": "o/../x", "repo": "r", "title": "t", "extra": 1})
    fields = {detail.field for detail in invalid.value.details}
    assert {"parameters.owner", "parameters.head", "parameters.base", "parameters.extra"} <= fields
    assert invalid.value.status == 422 and invalid.value.code == "PARAMETER_VALIDATION_ERROR"
    with pytest.raises(ParameterValidationFailed):
        generic_http.ADAPTER.operation("Request").validate({"path": "//evil.example/x"})
    with pytest.raises(ParameterValidationFailed):
        generic_http.ADAPTER.operation("Request").validate({"path": "/x", "headers": {"Authorization": "Bearer x"}})
    with pytest.raises(ParameterValidationFailed):
        twilio_sms.ADAPTER.operation("SendSms").validate({"to": "+1555", "body": "no sender"})
    with pytest.raises(OperationNotFound) as unknown:
        slack.ADAPTER.operation("DeleteEverything")
    assert unknown.value.code == "OPERATION_NOT_FOUND"


def test_registry_serves_tenant_providers_with_generic_http() -> None:
    assert adapter_for(BUILTIN_PROVIDERS["prov-github"]) is github.ADAPTER
    own = Provider(
        provider_id="prov-acme",
        key="acme",
        display_name="Acme",
        category=Category.GENERIC,
        auth_model=AuthModel.API_KEY,
        api_client_id="client-acme-v1",
        capabilities=[],
        base_url="https://acme.example",
        built_in=False,
    )
    assert adapter_for(own) is generic_http.ADAPTER
