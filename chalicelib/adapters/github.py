"""GitHub REST API: pull requests, repositories, issues."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field

from chalicelib.adapters.auth import Credential
from chalicelib.adapters.base import Adapter, ExecutionContext, Operation, Parameters
from chalicelib.adapters.errors import VendorRejected
from chalicelib.adapters.http import VendorRequest

# Owner and repository names as GitHub allows them; the pattern also keeps path segments from escaping.
Owner = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")]
Repo = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")]
Title = Annotated[str, Field(min_length=1, max_length=256)]
Text = Annotated[str, Field(max_length=65536)]
Ref = Annotated[str, Field(min_length=1, max_length=255)]


class RepositoryRef(Parameters):
    owner: Owner
    repo: Repo


class OpenPullRequestParameters(RepositoryRef):
    title: Title
    head: Ref = Field(description="The branch with the changes (or owner:branch for a fork).")
    base: Ref = Field(description="The branch to merge into.")
    body: Text | None = None
    draft: bool | None = None


class ListIssuesParameters(RepositoryRef):
    state: Literal["open", "closed", "all"] = "open"
    labels: Annotated[str, Field(max_length=1024)] | None = None
    since: Annotated[str, Field(max_length=40, description="ISO 8601 timestamp")] | None = None
    per_page: Annotated[int, Field(ge=1, le=100)] = 30
    page: Annotated[int, Field(ge=1, le=1000)] = 1


class CreateIssueParameters(RepositoryRef):
    title: Title
    body: Text | None = None
    labels: Annotated[list[Annotated[str, Field(min_length=1, max_length=100)]], Field(max_length=100)] | None = None
    assignees: Annotated[list[Owner], Field(max_length=10)] | None = None


def _repo_path(parameters: RepositoryRef) -> str:
    return f"/repos/{parameters.owner}/{parameters.repo}"


def _open_pull_request(parameters: OpenPullRequestParameters, context: ExecutionContext) -> VendorRequest:
    body = parameters.model_dump(include={"title", "head", "base", "body", "draft"}, exclude_none=True)
    return VendorRequest("POST", f"{_repo_path(parameters)}/pulls", json_body=body)


def _get_repository(parameters: RepositoryRef, context: ExecutionContext) -> VendorRequest:
    return VendorRequest("GET", _repo_path(parameters))


def _list_issues(parameters: ListIssuesParameters, context: ExecutionContext) -> VendorRequest:
    query = {"state": parameters.state, "per_page": str(parameters.per_page), "page": str(parameters.page)}
    if parameters.labels:
        query["labels"] = parameters.labels
    if parameters.since:
        query["since"] = parameters.since
    return VendorRequest("GET", f"{_repo_path(parameters)}/issues", query=query)


def _create_issue(parameters: CreateIssueParameters, context: ExecutionContext) -> VendorRequest:
    body = parameters.model_dump(include={"title", "body", "labels", "assignees"}, exclude_none=True)
    return VendorRequest("POST", f"{_repo_path(parameters)}/issues", json_body=body)


_PULL = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "number": {"type": "integer"},
        "state": {"type": "string"},
        "html_url": {"type": "string"},
    },
}
_ISSUE = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "number": {"type": "integer"},
        "title": {"type": "string"},
        "state": {"type": "string"},
        "html_url": {"type": "string"},
    },
}


class GitHubAdapter(Adapter):
    provider_key = "github"
    default_headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
    health_request = VendorRequest("GET", "/user")

    def execute(
        self, operation: str, parameters: Mapping[str, Any], credential: Credential, context: ExecutionContext
    ) -> Any:
        """A retried OpenPullRequest that GitHub refuses as a duplicate returns the pull request already opened.

        GitHub allows one open pull request per head and base, so when an earlier attempt opened it (and the
        worker crashed before recording that), the retry completes with that pull request instead of failing.
        """
        try:
            return super().execute(operation, parameters, credential, context)
        except VendorRejected as exc:
            if operation != "OpenPullRequest" or context.attempt < 2 or exc.vendor_status != 422:
                raise
            if "already exists" not in exc.message:
                raise
            pull = OpenPullRequestParameters.model_validate(dict(parameters))
            head = pull.head if ":" in pull.head else f"{pull.owner}:{pull.head}"
            query = {"head": head, "base": pull.base, "state": "open"}
            request = VendorRequest("GET", f"{_repo_path(pull)}/pulls", query=query)
            existing = self.call(request, credential, context).json()
            if isinstance(existing, list) and existing:
                return existing[0]
            raise


ADAPTER = GitHubAdapter(
    Operation(
        "OpenPullRequest",
        "Open Pull Request",
        "Opens a pull request from head into base (POST /repos/{owner}/{repo}/pulls). GitHub refuses a second "
        "open pull request for the same head and base, so a repeated call cannot open two.",
        OpenPullRequestParameters,
        _PULL,
        _open_pull_request,
    ),
    Operation(
        "GetRepository",
        "Get Repository",
        "Retrieves a repository (GET /repos/{owner}/{repo}).",
        RepositoryRef,
        {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "name": {"type": "string"},
                "full_name": {"type": "string"},
                "description": {"type": ["string", "null"]},
                "html_url": {"type": "string"},
            },
        },
        _get_repository,
        idempotent=True,
    ),
    Operation(
        "ListIssues",
        "List Issues",
        "Lists a repository's issues, one page at a time (GET /repos/{owner}/{repo}/issues).",
        ListIssuesParameters,
        {"type": "array", "items": _ISSUE},
        _list_issues,
        idempotent=True,
    ),
    Operation(
        "CreateIssue",
        "Create Issue",
        "Creates an issue (POST /repos/{owner}/{repo}/issues).",
        CreateIssueParameters,
        _ISSUE,
        _create_issue,
    ),
)
