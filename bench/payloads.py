"""Vendor payloads for the cost bench, shaped like GitHub's real ones (repository objects, users, URLs).

Sizes matter more than values: a payload's size, compressed, is what the delivery item stores and every
write and copy of it bills, so the URLs and ids repeat the way GitHub's do (they compress alike).
"""

from __future__ import annotations

import hashlib
import json
import random
from typing import Any

TINY_PUSH = {"ref": "refs/heads/main", "after": "6113728f27ae82c7b1a177c8d03f9e96e0adf246"}

_BASE = "https://api.github.com/repos/octo-org/hello-world"
_URL_NAMES = [
    *("archive", "assignees", "blobs", "branches", "collaborators", "comments", "commits", "compare", "contents"),
    *("contributors", "deployments", "downloads", "events", "forks", "git_commits", "git_refs", "git_tags", "hooks"),
    *("issue_comment", "issue_events", "issues", "keys", "labels", "languages", "merges", "milestones"),
    *("notifications", "pulls", "releases", "stargazers", "statuses", "subscribers", "subscription", "tags", "teams"),
    "trees",
]
_WORDS = ["parser", "cache", "retry", "handler", "token", "queue", "index", "window", "limit", "schema", "payload"]


def _user(login: str, number: int) -> dict[str, Any]:
    url = f"https://api.github.com/users/{login}"
    return {
        "login": login,
        "id": number,
        "node_id": f"MDQ6VXNlcj{number:08d}",
        "avatar_url": f"https://avatars.githubusercontent.com/u/{number}?v=4",
        "url": url,
        "html_url": f"https://github.com/{login}",
        **{f"{name}_url": f"{url}/{name}" for name in ("followers", "following", "gists", "starred", "repos")},
        "type": "User",
        "site_admin": False,
    }


def _repository() -> dict[str, Any]:
    return {
        "id": 1296269,
        "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5",
        "name": "hello-world",
        "full_name": "octo-org/hello-world",
        "private": False,
        "owner": _user("octo-org", 9919),
        "html_url": "https://github.com/octo-org/hello-world",
        **{f"{name}_url": f"{_BASE}/{name}{{/number}}" for name in _URL_NAMES},
        "created_at": "2011-01-26T19:01:12Z",
        "pushed_at": "2024-05-01T12:00:00Z",
        "stargazers_count": 80,
        "watchers_count": 80,
        "forks_count": 9,
        "open_issues_count": 3,
        "default_branch": "main",
        "visibility": "public",
    }


def github_pull_request(size: int, seed: int) -> dict[str, Any]:
    """A GitHub ``pull_request`` (``opened``) payload of about ``size`` bytes.

    Its bulk is what makes a real one about 26 KB: the repository three times (head, base, the event's),
    users, the pull request's links, and a description; the description and labels grow to ``size``.
    """
    rng = random.Random(seed)
    number = 1347
    html = f"https://github.com/octo-org/hello-world/pull/{number}"
    author = _user("mona", 583231)

    def branch(ref: str) -> dict[str, Any]:
        sha = hashlib.sha1(f"{seed}-{ref}".encode()).hexdigest()
        return {"label": f"octo-org:{ref}", "ref": ref, "sha": sha, "user": author, "repo": _repository()}

    links = {name: {"href": f"{_BASE}/{name}/{number}"} for name in ("self", "issue", "comments", "commits")}
    pull_request: dict[str, Any] = {
        "url": f"{_BASE}/pulls/{number}",
        "id": 1934557921,
        "node_id": "PR_kwDOABCD1M5zT2mh",
        "html_url": html,
        "diff_url": f"{html}.diff",
        "patch_url": f"{html}.patch",
        "number": number,
        "state": "open",
        "locked": False,
        "title": f"Make the {rng.choice(_WORDS)} {rng.choice(_WORDS)} faster",
        "user": author,
        "body": "",
        "labels": [],
        "created_at": "2024-05-01T12:00:00Z",
        "updated_at": "2024-05-01T12:00:00Z",
        "requested_reviewers": [_user("hubot", 1), _user("octocat", 583232)],
        "head": branch("feature-cache"),
        "base": branch("main"),
        "_links": links,
        "author_association": "MEMBER",
        "draft": False,
        "merged": False,
        "commits": 3,
        "additions": 120,
        "deletions": 14,
        "changed_files": 5,
    }
    payload = {
        "action": "opened",
        "number": number,
        "pull_request": pull_request,
        "repository": _repository(),
        "sender": author,
    }
    while len(json.dumps(payload)) < size:
        pull_request["body"] += f"- {rng.choice(_WORDS)} {rng.choice(_WORDS)}: {rng.randrange(10**6)}\n"
    return payload
