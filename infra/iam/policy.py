"""IAM policy evaluation for identity policies, as AWS documents it, for the statements our templates write.

An explicit ``Deny`` wins; otherwise a request is allowed when an ``Allow``
statement matches its action, its resource and its conditions, and denied
otherwise. Actions match case-insensitively, resources case-sensitively; ``*``
and ``?`` are wildcards, and an ARN is matched segment by segment (partition,
service, region, account, resource), ``*`` crossing ``/`` and ``:`` only in the
last. Conditions support the operators our policies use (String and Arn
operators, ``...IfExists``, ``ForAnyValue:``); any other raises, so a statement
the check cannot evaluate fails the check rather than passing it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

ARN_SEGMENTS = 6


@dataclass(frozen=True)
class Request:
    """One authorization AWS makes: an action on a resource, with the request's condition keys."""

    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()


@dataclass
class Statement:
    sid: str
    effect: str
    actions: list[str]
    resources: list[str]
    not_actions: list[str] = field(default_factory=list)
    not_resources: list[str] = field(default_factory=list)
    conditions: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def matching_action(self, action: str) -> str | None:
        """The pattern of this statement that covers ``action`` (for the unused-actions report), or None."""
        if self.not_actions:
            return None if any(_matches(p, action, fold=True) for p in self.not_actions) else "NotAction"
        return next((p for p in self.actions if _matches(p, action, fold=True)), None)

    def covers_resource(self, resource: str) -> bool:
        if self.not_resources:
            return not any(arn_matches(p, resource) for p in self.not_resources)
        return any(arn_matches(p, resource) for p in self.resources)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    statement: Statement | None = None  # the Allow that granted it, or the Deny that refused it
    pattern: str | None = None


def _list(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def statements(document: dict[str, Any]) -> list[Statement]:
    """A policy document's statements; a single statement object counts as a list of one."""
    raw = document.get("Statement", [])
    parsed = []
    for index, item in enumerate(raw if isinstance(raw, list) else [raw]):
        parsed.append(
            Statement(
                sid=str(item.get("Sid") or f"#{index}"),
                effect=item["Effect"],
                actions=_list(item.get("Action", [])),
                resources=_list(item.get("Resource", [])),
                not_actions=_list(item.get("NotAction", [])),
                not_resources=_list(item.get("NotResource", [])),
                conditions={
                    op: {key: _list(v) for key, v in keys.items()} for op, keys in item.get("Condition", {}).items()
                },
            )
        )
    return parsed


@lru_cache(maxsize=4096)
def _pattern(glob: str, fold: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob)
    return re.compile(f"^{body}$", (re.IGNORECASE | re.DOTALL) if fold else re.DOTALL)


def _matches(glob: str, value: str, *, fold: bool = False) -> bool:
    return bool(_pattern(glob, fold).match(value))


def arn_matches(pattern: str, arn: str) -> bool:
    """IAM's resource matching: ``*`` alone is everything; otherwise the six ARN segments match one by one."""
    if pattern == "*":
        return True
    wanted, actual = pattern.split(":", ARN_SEGMENTS - 1), arn.split(":", ARN_SEGMENTS - 1)
    if len(wanted) != ARN_SEGMENTS or len(actual) != ARN_SEGMENTS:
        return False  # not an ARN (an unscoped action's "*" matches only "*")
    return all(_matches(w, a) for w, a in zip(wanted, actual, strict=True))


_MATCHERS: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": lambda expected, actual: expected == actual,
    "StringLike": lambda expected, actual: _matches(expected, actual),
    "ArnEquals": lambda expected, actual: expected == actual,
    "ArnLike": lambda expected, actual: arn_matches(expected, actual),
}
# Each negated operator holds where its positive one does not.
NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}


def _condition_holds(operator: str, key: str, expected: list[str], context: dict[str, str]) -> bool:
    quantifier, _, base = operator.rpartition(":")
    if quantifier not in ("", "ForAnyValue"):
        raise ValueError(f"the IAM check cannot evaluate the condition quantifier {quantifier}")
    if_exists = base.endswith("IfExists")
    base = base.removesuffix("IfExists")
    negated = base in NEGATED
    matcher = _MATCHERS.get(NEGATED.get(base, base))
    if matcher is None:
        raise ValueError(f"the IAM check cannot evaluate the condition operator {operator}")
    if key not in context:
        return if_exists or negated
    hit = any(matcher(e, context[key]) for e in expected)
    return not hit if negated else hit


def _conditions_hold(statement: Statement, context: dict[str, str]) -> bool:
    return all(
        _condition_holds(operator, key, expected, context)
        for operator, keys in statement.conditions.items()
        for key, expected in keys.items()
    )


def evaluate(policy: list[Statement], request: Request) -> Decision:
    """Whether ``policy`` allows ``request``: an explicit Deny wins, then any Allow, else an implicit deny."""
    context = dict(request.context)
    granted: Decision | None = None
    for statement in policy:
        pattern = statement.matching_action(request.action)
        if pattern is None or not statement.covers_resource(request.resource):
            continue
        if not _conditions_hold(statement, context):
            continue
        if statement.effect == "Deny":
            return Decision(False, statement, pattern)
        granted = granted or Decision(True, statement, pattern)
    return granted or Decision(False)
