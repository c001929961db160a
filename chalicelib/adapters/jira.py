"""Jira Cloud REST API v3: creating issues.

Jira v3 takes descriptions in Atlassian Document Format; plain text given as
``description`` is wrapped into one ADF paragraph per line.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from chalicelib.adapters.base import Adapter, ExecutionContext, Operation, Parameters
from chalicelib.adapters.http import VendorRequest


class CreateIssueParameters(Parameters):
    project_key: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z][A-Za-z0-9_]*$")]
    summary: Annotated[str, Field(min_length=1, max_length=255)]
    issue_type: Annotated[str, Field(min_length=1, max_length=60)] = "Task"
    description: Annotated[str, Field(max_length=32000)] | None = None
    labels: Annotated[list[Annotated[str, Field(min_length=1, max_length=255)]], Field(max_length=50)] | None = None


def _adf(text: str) -> dict[str, Any]:
    paragraphs = [
        {"type": "paragraph", "content": [{"type": "text", "text": line}] if line else []} for line in text.split("\n")
    ]
    return {"type": "doc", "version": 1, "content": paragraphs}


def _create_issue(parameters: CreateIssueParameters, context: ExecutionContext) -> VendorRequest:
    fields: dict[str, Any] = {
        "project": {"key": parameters.project_key},
        "summary": parameters.summary,
        "issuetype": {"name": parameters.issue_type},
    }
    if parameters.description:
        fields["description"] = _adf(parameters.description)
    if parameters.labels:
        fields["labels"] = parameters.labels
    return VendorRequest("POST", "/rest/api/3/issue", json_body={"fields": fields})


class JiraAdapter(Adapter):
    provider_key = "jira"
    default_headers = {"Accept": "application/json"}
    health_request = VendorRequest("GET", "/rest/api/3/myself")


ADAPTER = JiraAdapter(
    Operation(
        "CreateIssue",
        "Create Issue",
        "Creates an issue in a project (POST /rest/api/3/issue).",
        CreateIssueParameters,
        {
            "type": "object",
            "properties": {"id": {"type": "string"}, "key": {"type": "string"}, "self": {"type": "string"}},
        },
        _create_issue,
    ),
)
