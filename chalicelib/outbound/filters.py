"""Content filters: a subset of EventBridge's event-pattern language, matched in process.

A subscription's ``filter`` is matched against the delivered envelope
(``{id, type, source, timestamp, data}``) during fan-out, so filtering costs no
AWS call per event. The pattern is checked once, when the subscription is
created or changed (``check``), and every error names its path
(``filter.data.amount[0].numeric``), so ``matches`` can assume a valid pattern.

Supported, as EventBridge defines them: a leaf is a list of alternatives (OR);
an alternative is an exact string, number, boolean or null, or one of
``{"prefix": s}``, ``{"suffix": s}``, ``{"equals-ignore-case": s}``,
``{"anything-but": value | [values] | {"prefix": s}}``,
``{"numeric": [op, n, (op, n)]}`` and ``{"exists": bool}``; an object nests.
All keys of an object must match (AND); an array in the event matches when
any of its elements does. Non-integer vendor numbers are kept as their literal
text (``JsonNumber``) and compare as numbers here.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from chalicelib.core.errors import FieldError, ValidationFailed
from chalicelib.core.jsontext import JsonNumber

MAX_DEPTH = 8
MAX_VALUES = 150
MAX_BYTES = 4096
_OPERATORS = {"prefix", "suffix", "equals-ignore-case", "anything-but", "numeric", "exists"}
_COMPARISONS = {"<", "<=", "=", ">", ">="}


class InvalidPattern(ValidationFailed):
    """A filter that cannot be matched; ``details`` says where."""


def _fail(path: str, message: str) -> InvalidPattern:
    return InvalidPattern(f"The filter is not a valid event pattern: {path}: {message}.", [FieldError(path, message)])


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | bool) or _is_number(value)


def check(pattern: Any, path: str = "filter") -> dict[str, Any]:
    """Validate a pattern (its size, depth and every operator) or raise ``InvalidPattern`` naming the path."""
    if not isinstance(pattern, dict) or not pattern:
        raise _fail(path, "must be a non-empty object")
    if len(json.dumps(pattern, default=str)) > MAX_BYTES:
        raise _fail(path, f"is larger than {MAX_BYTES} bytes")
    counted = _check_object(pattern, path, 1)
    if counted > MAX_VALUES:
        raise _fail(path, f"has {counted} values; at most {MAX_VALUES} are allowed")
    return pattern


def _check_object(pattern: dict[str, Any], path: str, depth: int) -> int:
    if depth > MAX_DEPTH:
        raise _fail(path, f"is nested deeper than {MAX_DEPTH} levels")
    counted = 0
    for key, value in pattern.items():
        here = f"{path}.{key}"
        if not key:
            raise _fail(path, "keys must not be empty")
        if isinstance(value, dict):
            if not value:
                raise _fail(here, "must not be an empty object")
            counted += _check_object(value, here, depth + 1)
        elif isinstance(value, list):
            if not value:
                raise _fail(here, "must list at least one value")
            for index, alternative in enumerate(value):
                _check_alternative(alternative, f"{here}[{index}]")
            counted += len(value)
        else:
            raise _fail(here, "must be an object or a list of values")
    return counted


def _check_alternative(value: Any, path: str) -> None:
    if _is_scalar(value):
        return
    if not isinstance(value, dict) or len(value) != 1:
        raise _fail(path, "must be a string, number, boolean, null or an object with one operator")
    operator, operand = next(iter(value.items()))
    where = f"{path}.{operator}"
    if operator not in _OPERATORS:
        raise _fail(where, f"unknown operator; use one of {', '.join(sorted(_OPERATORS))}")
    if operator in ("prefix", "suffix", "equals-ignore-case"):
        if not isinstance(operand, str):
            raise _fail(where, "must be a string")
    elif operator == "exists":
        if not isinstance(operand, bool):
            raise _fail(where, "must be true or false")
    elif operator == "numeric":
        _check_numeric(operand, where)
    else:
        _check_anything_but(operand, where)


def _check_numeric(operand: Any, path: str) -> None:
    if not isinstance(operand, list) or len(operand) not in (2, 4):
        raise _fail(path, 'must be [op, number] or [op, number, op, number], e.g. [">", 0, "<=", 5]')
    for index in range(0, len(operand), 2):
        op, number = operand[index], operand[index + 1]
        if op not in _COMPARISONS:
            raise _fail(f"{path}[{index}]", f"must be one of {', '.join(sorted(_COMPARISONS))}")
        if not _is_number(number):
            raise _fail(f"{path}[{index + 1}]", "must be a number")
    if len(operand) == 4 and (operand[0] not in (">", ">=") or operand[2] not in ("<", "<=")):
        raise _fail(path, "a range is a lower bound (> or >=) then an upper bound (< or <=)")


def _check_anything_but(operand: Any, path: str) -> None:
    if isinstance(operand, dict):
        if set(operand) != {"prefix"} or not isinstance(operand["prefix"], str):
            raise _fail(path, 'an object here must be {"prefix": "<text>"}')
    elif isinstance(operand, list):
        if not operand or not all(_is_scalar(v) and v is not None for v in operand):
            raise _fail(path, "must list strings or numbers")
    elif not _is_scalar(operand) or operand is None:
        raise _fail(path, "must be a string, number, list or {prefix}")


_MISSING = object()


def matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    """True when every field of the (checked) pattern matches ``event``."""
    for key, expected in pattern.items():
        actual = event.get(key, _MISSING) if isinstance(event, dict) else _MISSING
        if isinstance(expected, dict):
            if not matches(expected, actual if isinstance(actual, dict) else {}):
                return False
        elif not _leaf(expected, actual):
            return False
    return True


def _leaf(alternatives: list[Any], actual: Any) -> bool:
    if actual is _MISSING or isinstance(actual, dict):
        values: list[Any] = []
    elif isinstance(actual, list):
        values = [v for v in actual if not isinstance(v, dict | list)]
    else:
        values = [actual]
    for alternative in alternatives:
        if isinstance(alternative, dict) and "exists" in alternative:
            if alternative["exists"] == (actual is not _MISSING and not isinstance(actual, dict)):
                return True
        elif any(_one(alternative, value) for value in values):
            return True
    return False


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, JsonNumber) or _is_number(value):
        try:
            return Decimal(str.__str__(value) if isinstance(value, JsonNumber) else str(value))
        except InvalidOperation:
            return None
    return None


def _equal(expected: Any, value: Any) -> bool:
    if isinstance(expected, bool) or expected is None or isinstance(value, bool) or value is None:
        return expected is value
    if _is_number(expected):
        number = _number(value)
        return number is not None and number == _number(expected)
    return isinstance(value, str) and not isinstance(value, JsonNumber) and value == expected


def _one(alternative: Any, value: Any) -> bool:
    if not isinstance(alternative, dict):
        return _equal(alternative, value)
    operator, operand = next(iter(alternative.items()))
    text = value if isinstance(value, str) and not isinstance(value, JsonNumber) else None
    if operator == "prefix":
        return text is not None and text.startswith(operand)
    if operator == "suffix":
        return text is not None and text.endswith(operand)
    if operator == "equals-ignore-case":
        return text is not None and text.casefold() == operand.casefold()
    if operator == "numeric":
        return _in_range(operand, _number(value))
    # anything-but
    if isinstance(operand, dict):
        return text is not None and not text.startswith(operand["prefix"])
    excluded = operand if isinstance(operand, list) else [operand]
    return not any(_equal(item, value) for item in excluded)


def _in_range(conditions: list[Any], number: Decimal | None) -> bool:
    if number is None:
        return False
    for index in range(0, len(conditions), 2):
        op, bound = conditions[index], Decimal(str(conditions[index + 1]))
        if not {"<": number < bound, "<=": number <= bound, "=": number == bound, ">": number > bound}.get(
            op, number >= bound
        ):
            return False
    return True
