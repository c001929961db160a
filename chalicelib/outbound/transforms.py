"""Transforms: a JMESPath expression projecting the envelope into the body that is sent.

``jmespath`` comes with boto3, which the Lambda Python runtime provides, so it
adds nothing to the deployment package. The expression is compiled when the
subscription is created or changed (a syntax error is a 400 naming
``transform`` and the column) and compiled again, from a small per-process
cache, at fan-out.

Limits, and how they hold: JMESPath has no loops, recursion or user
functions, so evaluation is bounded by the expression (at most
``MAX_EXPRESSION`` characters) times the envelope (bounded by the event size
limit); no timer is needed to stop it. The result must be JSON of at most
``MAX_RESULT_BYTES`` once written; a larger one, or an evaluation error
(e.g. a function given the wrong type), fails that delivery's body rather
than sending something else: ``apply`` raises ``TransformFailed`` and fan-out
records it as a failed attempt.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import jmespath
from jmespath import exceptions as jmespath_errors
from jmespath.parser import ParsedResult

from chalicelib.core import jsontext
from chalicelib.core.errors import FieldError, ValidationFailed

MAX_EXPRESSION = 1024
MAX_RESULT_BYTES = 256 * 1024


class TransformFailed(Exception):
    """The expression could not produce a body for this event."""


@lru_cache(maxsize=256)
def _compiled(expression: str) -> ParsedResult:
    return jmespath.compile(expression)


def check(expression: str, field: str = "transform") -> str:
    """Compile once to reject a bad expression with where it went wrong."""
    if not expression.strip():
        raise ValidationFailed("The transform is empty.", [FieldError(field, "must not be empty")])
    if len(expression) > MAX_EXPRESSION:
        message = f"longer than {MAX_EXPRESSION} characters"
        raise ValidationFailed(f"The transform is {message}.", [FieldError(field, message)])
    try:
        _compiled(expression)
    except jmespath_errors.JMESPathError as exc:
        column = getattr(exc, "lex_position", None)
        where = f" at column {column}" if isinstance(column, int) else ""
        reason = str(getattr(exc, "msg", "") or exc).splitlines()[0]
        message = f"not a JMESPath expression{where}: {reason}"
        raise ValidationFailed(f"The transform is {message}.", [FieldError(field, message)]) from exc
    return expression


def apply(expression: str, envelope: dict[str, Any]) -> str:
    """The JSON text to send: the expression's result, written with vendor numbers untouched."""
    try:
        result = _compiled(expression).search(envelope)
    except jmespath_errors.JMESPathError as exc:
        raise TransformFailed(f"the transform failed: {exc}") from exc
    text = jsontext.dumps(result)
    if len(text) > MAX_RESULT_BYTES:
        raise TransformFailed(f"the transform's result is larger than {MAX_RESULT_BYTES} bytes")
    return text
